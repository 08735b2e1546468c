// The TID 1500 reader (viewer/reading/src/ReportReader.cpp), which reads reports fetched from
// the PACS - any tool's - when a workstation reopens a signed read: it must never crash, and
// whatever it returns must be usable (every measurement with a finite value).
#include "Harness.h"
#include "viewerreading/ReportReader.h"

#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string error;
    const auto r = vr::readMeasurementReport(data, size, &error);
    if (!r) {
        fuzz::require(!error.empty(), "a refused report without a reason");
        return 0;
    }
    for (const auto& g : r->groups)
        for (const auto& m : g.measurements) {
            fuzz::require(std::isfinite(m.value), "a measurement whose value is not finite: " + m.code);
            fuzz::require(!m.code.empty(), "a measurement without its concept");
        }
    return 0;
}
