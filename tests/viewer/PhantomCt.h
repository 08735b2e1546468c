// A small phantom (one subject, one timepoint, 23 slices of 10 mm) written by the phantom tool,
// and its CT series as the viewer's core scans it: what the report and DICOMweb tests measure on.
#pragma once

#include "viewercore/Series.h"
#include "../common/Run.h"

#include <filesystem>
#include <string>

namespace testutil {

struct PhantomCt {
    vc::Scan scan;
    std::size_t index = 0; ///< the CT series in scan.series
    bool ok = false;
    std::string output; ///< the phantom tool's, when it failed
    const vc::Series& ct() const { return scan.series[index]; }
};

/// Writes the phantom into DIR/trial with this seed; ok false (with the tool's output) when the
/// tool failed or no CT series of more than one slice came out.
inline PhantomCt phantomCt(const std::filesystem::path& dir, int seed) {
    PhantomCt p;
    if (run(std::string(RELUTH_BINARY_DIR) + "/bin/phantom --out " + (dir / "trial").string() + " --seed " + std::to_string(seed) +
                " --subjects 1 --timepoints 1 --slices 23 --thickness 10",
            &p.output) != 0)
        return p;
    p.scan = vc::scanFolder(dir / "trial/incoming");
    for (std::size_t i = 0; i < p.scan.series.size(); ++i)
        if (p.scan.series[i].modality == "CT" && p.scan.series[i].slices.size() > 1) {
            p.index = i;
            p.ok = true;
        }
    return p;
}

} // namespace testutil
