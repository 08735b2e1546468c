// The viewer's own header reader (viewer/core/src/FastHeader.cpp), which reads the bytes of
// every file a reader opens, against DCMTK: differential. Whenever the fast reader accepts a
// file, DCMTK must read it too and every field must be equal (vc::headerDifferences) - a
// mismatch is a finding, not only a crash.
#include "Harness.h"
#include "viewercore/Series.h"

#include <dcmtk/oflog/oflog.h>

#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    vc::SliceHeader fast, dcmtk;
    const bool accepted = vc::parseHeaderFast(data, size, fast);
    std::string why;
    const bool read = vc::parseHeaderDcmtk(data, size, dcmtk, why);
    if (!accepted) return 0; // declined: the viewer asks DCMTK, which is the reference
    fuzz::require(read, "the fast reader accepted a file DCMTK cannot read: " + why);
    const auto differences = vc::headerDifferences(fast, dcmtk);
    if (!differences.empty()) fuzz::finding("the fast reader and DCMTK disagree: " + differences.front());
    return 0;
}
