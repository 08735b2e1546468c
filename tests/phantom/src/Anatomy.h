// The phantom's anatomy: an axial slice is a painter's list of 2D shapes (ellipses and
// rectangles) in patient millimetres, each filled with one tissue. Rasterizing walks rows and
// fills analytic spans, so a 512x512 slice costs a few hundred thousand stores.
#pragma once

#include "phantom/Plan.h"

#include <array>
#include <cstdint>
#include <vector>

namespace phantom {

enum class Tissue : std::uint8_t {
    Air,
    Table,
    Fat,
    Muscle,
    Liver,
    Spleen,
    Kidney,
    Lung,
    Heart,
    Blood,
    Bone,
    Marrow,
    Csf,
    Marker,
    LiverLesion,
    LungLesion,
    Node,
    FaintLesion, ///< phantom --hard-lesions: a liver lesion 17 HU under the liver
    NodeVessel,  ///< phantom --hard-lesions: an unenhanced vessel of a node's density
    Count
};

struct Shape {
    enum Kind : std::uint8_t { Ellipse, Rect } kind = Ellipse;
    double cx = 0, cy = 0; ///< centre (ellipse) or min corner (rect), mm
    double a = 0, b = 0;   ///< semi-axes (ellipse) or width/height (rect), mm
    double angleRad = 0;   ///< ellipse: rotation of the a axis from +x toward +y
    Tissue tissue = Tissue::Air;
};

/// Value stored for each tissue (CT: HU + 1024; MR: signal).
using TissueValues = std::array<std::int32_t, static_cast<std::size_t>(Tissue::Count)>;
TissueValues ctValues();
TissueValues mrValues();

/// Shapes of one axial slice at height z for a subject at a timepoint, in painting order.
std::vector<Shape> sliceShapes(const TrialPlan& plan, const Subject& subject, int timepoint, double zMm);

struct RasterGeometry {
    int rows = 0, columns = 0;
    double originXMm = 0, originYMm = 0; ///< centre of pixel (0,0)
    double spacingXMm = 0, spacingYMm = 0;
};

/// Paints shapes into out (rows x columns), adds noise (sigma in stored units) from a
/// deterministic stream keyed by noiseKey, and clamps to [minValue, maxValue]. With
/// partialVolume, each pixel is the mean of 4 sub-rows, each covering its exact share of every
/// span (a pixel on an edge takes the share of each tissue it covers); without, a pixel takes
/// the tissue at its centre.
void rasterize(const std::vector<Shape>& shapes, const RasterGeometry& g, const TissueValues& values, double noiseSigma,
               std::uint64_t noiseKey, int minValue, int maxValue, std::uint16_t* out, bool partialVolume = false);

} // namespace phantom
