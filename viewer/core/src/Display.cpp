#include "viewercore/Display.h"

#include <algorithm>
#include <cmath>

namespace vc {

const char* planeName(Plane p) {
    switch (p) {
    case Plane::Axial: return "axial";
    case Plane::Coronal: return "coronal";
    case Plane::Sagittal: return "sagittal";
    }
    return "?";
}

namespace {

struct Want {
    int axis; // patient axis 0 x (L+), 1 y (P+), 2 z (S+)
    int sign; // which way along it the screen axis runs
};

std::array<Want, 3> wanted(Plane p) { // u, v, k
    switch (p) {
    case Plane::Axial: return {{{0, +1}, {1, +1}, {2, -1}}};
    case Plane::Coronal: return {{{0, +1}, {2, -1}, {1, +1}}};
    case Plane::Sagittal: return {{{1, +1}, {2, -1}, {0, +1}}};
    }
    return {};
}

} // namespace

SliceFrame sliceFrame(const Geometry& g, Plane plane) {
    SliceFrame f;
    f.plane = plane;
    const std::array<std::array<double, 3>, 3> dir{g.row, g.column, g.normal};
    const std::array<int, 3> n{g.nx, g.ny, g.nz};
    const std::array<std::ptrdiff_t, 3> stride{1, g.nx, static_cast<std::ptrdiff_t>(g.nx) * g.ny};
    // each voxel axis goes with the patient axis it is closest to (greedy on the largest
    // cosine, so an oblique series still gets three different axes)
    std::array<int, 3> voxelAxisOf{-1, -1, -1}; // patient axis -> voxel axis
    std::array<bool, 3> usedVoxel{false, false, false};
    for (int round = 0; round < 3; ++round) {
        double best = -1;
        int bv = 0, bp = 0;
        for (int a = 0; a < 3; ++a) {
            if (usedVoxel[static_cast<std::size_t>(a)]) continue;
            for (int p = 0; p < 3; ++p) {
                if (voxelAxisOf[static_cast<std::size_t>(p)] >= 0) continue;
                const double c = std::abs(dir[static_cast<std::size_t>(a)][static_cast<std::size_t>(p)]);
                if (c > best) best = c, bv = a, bp = p;
            }
        }
        usedVoxel[static_cast<std::size_t>(bv)] = true;
        voxelAxisOf[static_cast<std::size_t>(bp)] = bv;
    }
    f.corner = g.origin;
    const auto want = wanted(plane);
    std::array<int, 3> size{};
    std::array<double, 3> spacing{};
    std::array<std::ptrdiff_t, 3> strides{};
    std::array<std::array<double, 3>, 3> dirs{};
    for (std::size_t s = 0; s < 3; ++s) {
        const int a = voxelAxisOf[static_cast<std::size_t>(want[s].axis)];
        const auto& d = dir[static_cast<std::size_t>(a)];
        const int along = (d[static_cast<std::size_t>(want[s].axis)] >= 0 ? 1 : -1) * want[s].sign;
        const std::size_t au = static_cast<std::size_t>(a);
        size[s] = n[au];
        spacing[s] = g.spacing[au];
        if (along > 0) {
            strides[s] = stride[au];
            dirs[s] = d;
        } else {
            strides[s] = -stride[au];
            f.base += static_cast<std::ptrdiff_t>(n[au] - 1) * stride[au];
            for (std::size_t i = 0; i < 3; ++i) f.corner[i] += (n[au] - 1) * g.spacing[au] * d[i];
            dirs[s] = {-d[0], -d[1], -d[2]};
        }
    }
    f.width = size[0], f.height = size[1], f.count = size[2];
    f.du = spacing[0], f.dv = spacing[1], f.dk = spacing[2];
    f.strideU = strides[0], f.strideV = strides[1], f.strideK = strides[2];
    f.right = dirs[0], f.down = dirs[1], f.through = dirs[2];
    f.axisK = want[2].axis;
    return f;
}

std::array<double, 3> SliceFrame::patient(double u, double v, int k) const {
    std::array<double, 3> p{};
    for (std::size_t i = 0; i < 3; ++i) p[i] = corner[i] + u * du * right[i] + v * dv * down[i] + k * dk * through[i];
    return p;
}

std::array<double, 2> SliceFrame::pixelOf(const std::array<double, 3>& p) const {
    double u = 0, v = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        u += (p[i] - corner[i]) * right[i];
        v += (p[i] - corner[i]) * down[i];
    }
    return {u / du, v / dv};
}

double SliceFrame::position(int k) const { return patient((width - 1) / 2.0, (height - 1) / 2.0, k)[static_cast<std::size_t>(axisK)]; }

int SliceFrame::nearest(double pos) const {
    if (count <= 1) return 0;
    const double p0 = position(0), step = position(1) - p0;
    if (step == 0) return 0;
    const long k = std::lround((pos - p0) / step);
    return static_cast<int>(std::clamp<long>(k, 0, count - 1));
}

std::string orientationLabel(const std::array<double, 3>& d) {
    static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
    std::array<int, 3> order{0, 1, 2};
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return std::abs(d[static_cast<std::size_t>(a)]) > std::abs(d[static_cast<std::size_t>(b)]); });
    std::string s;
    for (int a : order) {
        const double c = d[static_cast<std::size_t>(a)];
        if (std::abs(c) < 0.25) continue; // within ~15 degrees of the plane: not worth a letter
        s += c > 0 ? pos[a] : neg[a];
    }
    return s;
}

std::array<std::string, 4> edgeLabels(const SliceFrame& f) {
    auto neg = [](const std::array<double, 3>& d) { return std::array<double, 3>{-d[0], -d[1], -d[2]}; };
    return {orientationLabel(neg(f.right)), orientationLabel(f.right), orientationLabel(neg(f.down)), orientationLabel(f.down)};
}

const std::vector<Preset>& presets() {
    static const std::vector<Preset> p{{"Soft tissue", "1", {400, 40}},
                                       {"Liver", "2", {150, 90}},
                                       {"Lung", "3", {1500, -600}},
                                       {"Bone", "4", {2000, 300}},
                                       {"Brain", "5", {80, 40}}};
    return p;
}

double greyOf(double x, WindowLevel wl) {
    const double w = std::max(1.0, wl.window), c = wl.level;
    if (x <= c - 0.5 - (w - 1) / 2) return 0;
    if (x > c - 0.5 + (w - 1) / 2) return 255;
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

WindowLevel automaticWindow(const Volume& volume, int k) {
    const Geometry& g = volume.geometry;
    const std::size_t n = static_cast<std::size_t>(g.nx) * static_cast<std::size_t>(g.ny);
    if (n == 0 || k < 0 || k >= g.nz) return {};
    std::vector<std::int16_t> values(volume.voxels.begin() + static_cast<std::ptrdiff_t>(n * static_cast<std::size_t>(k)),
                                     volume.voxels.begin() + static_cast<std::ptrdiff_t>(n * static_cast<std::size_t>(k + 1)));
    const auto at = [&](double q) {
        auto it = values.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(n - 1));
        std::nth_element(values.begin(), it, values.end());
        return static_cast<double>(*it);
    };
    const double low = at(0.01), high = at(0.99);
    return {std::max(1.0, high - low), (high + low) / 2};
}

void GreyTable::set(WindowLevel wl) {
    if (wl.window == wl_.window && wl.level == wl_.level) return;
    wl_ = wl;
    for (int i = 0; i < 65536; ++i)
        table_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(std::lround(std::clamp(greyOf(i - 32768, wl), 0.0, 255.0)));
}

void renderSlice(const Volume& volume, const SliceFrame& f, int k, const GreyTable& grey, std::uint8_t* out) {
    const std::int16_t* vox = volume.voxels.data();
    const std::uint8_t* lut = grey.data() + 32768;
    for (int v = 0; v < f.height; ++v) {
        const std::int16_t* p = vox + f.index(0, v, k);
        std::uint8_t* o = out + static_cast<std::size_t>(v) * static_cast<std::size_t>(f.width);
        if (f.strideU == 1) {
            for (int u = 0; u < f.width; ++u) o[u] = lut[p[u]];
        } else {
            for (int u = 0; u < f.width; ++u, p += f.strideU) o[u] = lut[*p];
        }
    }
}

bool valueAt(const Volume& volume, const SliceFrame& f, int k, int u, int v, std::int16_t& hu) {
    if (u < 0 || v < 0 || k < 0 || u >= f.width || v >= f.height || k >= f.count) return false;
    hu = volume.voxels[static_cast<std::size_t>(f.index(u, v, k))];
    return true;
}

} // namespace vc
