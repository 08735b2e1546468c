#pragma once
// How a volume is shown on a screen, without a GUI: the three radiological planes, the mapping
// from screen pixels to voxels (chosen from the direction cosines, so a series stored
// mirrored or transposed is still shown with the patient's right on the screen's left), the
// orientation labels, slice positions for synchronising two timepoints, and the window/level
// mapping of a slice to 8-bit grey. The GUI only uploads what renderSlice() writes.
#include "viewercore/Series.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vc {

enum class Plane { Axial, Coronal, Sagittal };
const char* planeName(Plane p);

/// A plane of a volume as the screen shows it: u to the right, v down, k through the slices.
/// Axial: patient's left to the right (radiological convention), posterior down, k from head
/// to feet. Coronal: left to the right, feet down, k from front to back. Sagittal: posterior to
/// the right (anterior on the left), feet down, k from the patient's right to left.
struct SliceFrame {
    Plane plane = Plane::Axial;
    int width = 0, height = 0, count = 0; ///< screen pixels across, down, number of slices
    double du = 1, dv = 1, dk = 1;        ///< mm per pixel across and down, mm between slices
    std::ptrdiff_t base = 0;              ///< voxel index of pixel (0,0) on slice 0
    std::ptrdiff_t strideU = 0, strideV = 0, strideK = 0;
    std::array<double, 3> right{}, down{}, through{}; ///< patient (LPS) directions of +u, +v, +k
    std::array<double, 3> corner{};                   ///< patient position of pixel (0,0) on slice 0 (its centre)
    int axisK = 2;                                    ///< the patient axis (0 x, 1 y, 2 z) the slices step along

    std::ptrdiff_t index(int u, int v, int k) const { return base + u * strideU + v * strideV + k * strideK; }
    /// Patient position (mm, LPS) of a point given in pixels (u, v may be fractional).
    std::array<double, 3> patient(double u, double v, int k) const;
    /// The inverse in the slice plane: the (fractional) pixel u, v a patient point projects to.
    std::array<double, 2> pixelOf(const std::array<double, 3>& p) const;
    /// The slice's position along its patient axis, in mm (z for axial: S is positive, as
    /// scanners print it; y for coronal with anterior positive; x for sagittal, left positive).
    double position(int k) const;
    /// The slice nearest to a position (clamped to the volume).
    int nearest(double position) const;
};

SliceFrame sliceFrame(const Geometry& g, Plane plane);

/// Patient-direction letters for a direction (R/L, A/P, S/I), strongest first, e.g. "L" or "LA".
std::string orientationLabel(const std::array<double, 3>& direction);
/// Left, right, top, bottom edge labels of a plane.
std::array<std::string, 4> edgeLabels(const SliceFrame& f);

struct WindowLevel {
    double window = 400, level = 40;
};
struct Preset {
    const char* name;
    const char* shortcut;
    WindowLevel wl;
};
/// Soft tissue, liver, lung, bone, brain (keys 1-5).
const std::vector<Preset>& presets();

/// 8-bit grey for every HU value (DICOM's linear VOI function).
class GreyTable {
public:
    void set(WindowLevel wl);
    std::uint8_t operator()(std::int16_t hu) const { return table_[static_cast<std::size_t>(hu + 32768)]; }
    const std::uint8_t* data() const { return table_.data(); }
    WindowLevel windowLevel() const { return wl_; }

private:
    std::array<std::uint8_t, 65536> table_{};
    WindowLevel wl_{0, 0};
};
/// A window for images whose values are not Hounsfield units (MR): the 1st to 99th
/// percentile of slice k's values.
WindowLevel automaticWindow(const Volume& volume, int k);

/// The grey DICOM's linear VOI function gives a value (what a test expects on screen).
double greyOf(double hu, WindowLevel wl);

/// Writes slice k as width*height grey bytes, row 0 at the top of the screen.
void renderSlice(const Volume& volume, const SliceFrame& f, int k, const GreyTable& grey, std::uint8_t* out);
/// The HU value under a pixel, or false outside the slice.
bool valueAt(const Volume& volume, const SliceFrame& f, int k, int u, int v, std::int16_t& hu);

} // namespace vc
