// One slice of a planned image series, exactly as the DICOM writer stores it (CT: HU + 1024;
// MR: signal), for tools that want the phantom's pixels without writing files (the reading
// assistance benchmark).
#pragma once

#include "phantom/Plan.h"

#include <cstdint>
#include <vector>

namespace phantom {

/// Slice `slice` (0 = instance 1, the most cranial) of series `se` of subject `s` at `timepoint`.
void renderSlice(const TrialPlan& plan, const Subject& s, int timepoint, const SeriesPlan& se, int slice, std::vector<std::uint16_t>& out);

} // namespace phantom
