#pragma once
// A file whose transfer syntax nothing here decodes: pydicom's lossless JPEG 2000 MR image
// relabelled High-Throughput JPEG 2000 (1.2.840.10008.1.2.4.201).
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <filesystem>

namespace testutil {

inline const std::filesystem::path kPydicomFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

/// Writes the relabelled copy to `to`; false when pydicom's files are not installed or DCMTK fails.
inline bool writeHtj2kFile(const std::filesystem::path& to) {
    const auto from = kPydicomFiles / "MR_small_jp2klossless.dcm";
    if (!std::filesystem::exists(from)) return false;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    DcmFileFormat ff;
    if (ff.loadFile(to.c_str()).bad()) return false;
    ff.loadAllDataIntoMemory();
    ff.getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, "1.2.840.10008.1.2.4.201");
    return ff.saveFile(to.c_str(), EXS_Unknown, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0, EWM_dontUpdateMeta).good();
}

} // namespace testutil
