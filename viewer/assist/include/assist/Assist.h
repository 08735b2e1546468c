// Reading assistance on ITK, without a GUI: the one-click RECIST measurement (segment the
// lesion in a region around the click, find the slice where it is longest, propose the long
// axis and the longest perpendicular short axis from the sub-pixel outline) and the prior
// lesion found on the new scan (register the current series to the prior one, then refine
// locally around the lesion). Everything is in patient coordinates (LPS, mm). Nothing here
// accepts anything: the reader does, in the workstation.
//
// ITK stays inside the .cpp files; this header needs only the viewer core's volume.
#pragma once

#include "viewercore/Series.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace assist {

using P3 = std::array<double, 3>;

struct MeasureOptions {
    bool node = false;        ///< a lymph node: the slice with the longest short axis is chosen
    double roiHalfMm = 35;    ///< first in-plane half size of the region around the click
    double maxRoiHalfMm = 90; ///< grown up to this when the lesion touches the region's border
    double searchHalfMm = 40; ///< slices searched above and below the click
    double minCnr = 4.0;      ///< lesion-to-surroundings contrast over the smoothed noise
    double hintLengthMm = 0;  ///< a rough line the reader dragged across the lesion (0: none)
};

/// A proposed measurement, or why none is proposed.
struct Proposal {
    bool confident = false;
    std::string why; ///< when not confident: what the segmentation ran into
    double longMm = 0, shortMm = 0;
    std::array<P3, 2> longAxis{}, shortAxis{};
    int slice = -1;          ///< index along the geometry's slice order
    std::vector<P3> outline; ///< the sub-pixel outline on that slice
    int slicesSearched = 0;
    double cnr = 0; ///< contrast to the surroundings over the smoothed noise
    double millis = 0;
};

/// Voxel index (fractional) of a patient point, and back.
P3 toIndex(const vc::Geometry& g, const P3& p);
P3 toPatient(const vc::Geometry& g, const P3& ijk);

/// One click (a point inside the lesion) -> a proposal. Never throws for a point outside the
/// volume: the proposal says why there is none.
Proposal measureAt(const vc::Volume& volume, const P3& click, const MeasureOptions& options = {});
/// A rough line dragged across the lesion: its middle is the click, its length the size hint.
Proposal measureAlong(const vc::Volume& volume, const P3& a, const P3& b, MeasureOptions options = {});

/// The current scan registered to the prior one: maps prior patient points to current ones.
class Registration {
public:
    ~Registration();
    Registration(Registration&&) noexcept;
    Registration& operator=(Registration&&) noexcept;
    /// The global stage (coarse start from the body centroid and a z shift from per-slice
    /// profiles, then rigid and affine on shrunken images). Throws std::runtime_error with the
    /// reason when the two series cannot be registered.
    static Registration global(const vc::Volume& prior, const vc::Volume& current);
    P3 mapGlobal(const P3& prior) const;
    /// The local stage around one lesion (a translation on full-resolution blocks, started from
    /// the global transform). Falls back to the global mapping when the block is outside.
    P3 mapLocal(const P3& prior, double radiusMm = 25) const;
    double globalMillis() const;
    std::string summary() const; ///< the stages' parameters, for the CLI and the log

private:
    struct Impl;
    explicit Registration(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// The nearest slice (index along the geometry's order) to a patient point.
int nearestSlice(const vc::Geometry& g, const P3& p);

} // namespace assist
