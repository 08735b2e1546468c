#pragma once
// A signed timepoint as a DICOM Structured Report, TID 1500 Measurement Report (DCMTK
// dcmsr/cmr): one measurement group (TID 1501) per target lesion with its tracking
// identifier (T01) and a tracking UID that is the same for that lesion at every timepoint of
// the read, the finding site, the long axis (and the short axis of a node) in mm (TID 300)
// with the source image and the caliper's end points on it; non-target and new lesions and the
// engine's responses as qualitative evaluations. Written atomically.
#include "viewerreading/ReadModel.h"

#include <filesystem>
#include <functional>
#include <string>

namespace vr {

struct ReportInput {
    std::string subject; ///< pseudonym (the images' patient ID)
    std::string reader;  ///< "Reader 1" / "Reader 2": the slot, never the user's name
    int ordinal = 1;
    std::string visit; ///< BASELINE, WEEK 8 ...
    const ReadModel* model = nullptr;
    /// Path of the image file of a SOP instance UID (empty when unknown).
    std::function<std::filesystem::path(const std::string& sopUid)> fileOf;
    std::filesystem::path anyImage; ///< an image of the timepoint: its study holds the report
};

/// The lesion's tracking UID: 2.25.<a number derived from subject, reader and lesion id>.
std::string trackingUid(const std::string& subject, const std::string& reader, const std::string& lesion);

/// Writes the report; false with the reason (nothing written then).
bool writeMeasurementReport(const ReportInput& in, const std::filesystem::path& out, std::string* error);

} // namespace vr
