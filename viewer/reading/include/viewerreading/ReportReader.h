#pragma once
// Reading a TID 1500 Measurement Report back (ours, or any other tool's): what a workstation
// with nothing local needs to reopen a signed read from the PACS - each measurement group's
// tracking identifier and UID, finding site, its NUM measurements (long axis, short axis, or
// whatever else it measured) with units, provenance, the image each was made on and the
// caliper's end points on it; the report's qualitative evaluations. What is not understood is
// never guessed: it is listed in `notes`, one line each, and the rest is read as far as it goes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vr {

struct ReportedMeasurement {
    std::string code; ///< "LONG_AXIS", "SHORT_AXIS", or CODE^SCHEME for any other
    std::string conceptMeaning;
    double value = 0;
    std::string units;                           ///< UCUM code, e.g. "mm"
    std::string provenance;                      ///< MANUAL / PROPOSED / PROPOSED_EDITED (our modifier), "" when absent
    std::string sopClassUid, sopInstanceUid;     ///< the image it was made on ("" when absent)
    std::vector<std::array<double, 2>> polyline; ///< SCOORD column, row (pixel centre of the first pixel 0.5, 0.5)
};

struct ReportedGroup {
    std::string trackingId; ///< e.g. "T01"
    std::string trackingUid;
    std::string finding, findingSite; ///< code meanings
    std::vector<ReportedMeasurement> measurements;
};

struct ParsedReport {
    std::string sopInstanceUid, studyInstanceUid, seriesInstanceUid, patientId;
    std::string observer; ///< the person observer's name ("READER^1")
    std::string title;    ///< the document title's meaning
    bool tid1500 = false; ///< the root says TID 1500 (DCMR)
    std::vector<ReportedGroup> groups;
    std::vector<std::string> evaluations; ///< qualitative evaluations, "meaning: value"
    std::vector<std::string> notes;       ///< what was not understood, one line each
};

/// Reads the report from a file or from memory; nullopt with `error` when it is not an SR at all.
std::optional<ParsedReport> readMeasurementReport(const std::filesystem::path& file, std::string* error);
std::optional<ParsedReport> readMeasurementReport(const std::uint8_t* data, std::size_t size, std::string* error);

/// The patient coordinates (mm) of an SCOORD point on an image, given that image's Image
/// Position, Image Orientation (row then column direction cosines) and Pixel Spacing (row, column).
std::array<double, 3> patientPointOf(const std::array<double, 2>& pixel, const std::array<double, 3>& position,
                                     const std::array<double, 6>& orientation, const std::array<double, 2>& spacing);

} // namespace vr
