// DCMTK side of the phantom (internal header: DCMTK types stay inside the phantom library).
#pragma once

#include "phantom/Plan.h"

#include <dcmtk/dcmdata/dcdatset.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace phantom {

DcmDataset seriesTemplate(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se);
/// Adds the image plane/pixel/modality attributes of a CT or MR series to its template.
void addImagePlane(DcmDataset& d, const SeriesPlan& se);
/// Renders slice i of a CT/MR series and writes it; pixels is a reusable buffer.
void writeSlice(const TrialPlan& plan, const Subject& s, int timepoint, const SeriesPlan& se, const DcmDataset& templ, int slice,
                const std::filesystem::path& file, std::vector<std::uint16_t>& pixels, const std::string& sopUid);
void writeNm(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se, const std::filesystem::path& file);
void writeBurnedIn(const TrialPlan& plan, const Subject& s, const StudyPlan& st, const SeriesPlan& se, const std::filesystem::path& file);

} // namespace phantom
