// Reading assistance (viewer/assist): the one-click measurement and the registration to the
// prior timepoint, on volumes drawn here analytically (independently of the phantom), with
// partial-volume edges, noise, neighbours of the same density and known rigid motion.
#include "assist/Assist.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

namespace {

constexpr double kPi = 3.14159265358979323846;

struct Ellipsoid {
    double cx, cy, cz, a, b, c, angleDeg, value;
};

/// An axial volume: nx x ny x nz voxels, spacing sx (in-plane) and sz; background, shapes
/// drawn with 4x4 in-plane supersampling (partial volume), Gaussian noise.
vc::Volume drawVolume(int nx, int ny, int nz, double sx, double sz, double background, const std::vector<Ellipsoid>& shapes, double noise,
                      unsigned seed, std::array<double, 3> origin = {-100, -100, -50}) {
    vc::Volume v;
    auto& g = v.geometry;
    g.ok = true;
    g.nx = nx;
    g.ny = ny;
    g.nz = nz;
    g.origin = origin;
    g.spacing = {sx, sx, sz};
    g.row = {1, 0, 0};
    g.column = {0, 1, 0};
    g.normal = {0, 0, 1};
    v.voxels.resize(static_cast<std::size_t>(nx) * ny * nz);
    std::mt19937 rng(seed);
    std::normal_distribution<double> gauss(0, noise);
    for (int k = 0; k < nz; ++k) {
        const double z = origin[2] + k * sz;
        for (int j = 0; j < ny; ++j) {
            for (int i = 0; i < nx; ++i) {
                double val = 0;
                for (int sj = 0; sj < 4; ++sj) {
                    for (int si = 0; si < 4; ++si) {
                        const double x = origin[0] + (i + (si - 1.5) / 4) * sx, y = origin[1] + (j + (sj - 1.5) / 4) * sx;
                        double s = background;
                        for (const Ellipsoid& e : shapes) {
                            const double t = e.angleDeg * kPi / 180, dx = x - e.cx, dy = y - e.cy, dz = z - e.cz;
                            const double u = dx * std::cos(t) + dy * std::sin(t), w = -dx * std::sin(t) + dy * std::cos(t);
                            if (u * u / (e.a * e.a) + w * w / (e.b * e.b) + dz * dz / (e.c * e.c) <= 1) s = e.value;
                        }
                        val += s / 16;
                    }
                }
                v.voxels[(static_cast<std::size_t>(k) * ny + j) * nx + i] = static_cast<std::int16_t>(std::lround(val + gauss(rng)));
            }
        }
    }
    return v;
}

TEST(Assist, OneClickMeasuresAnEllipseToATenthOfAMillimetre) {
    // A 24 x 14 mm lesion at 30 degrees, 60 HU brighter than its surroundings, on 0.78 mm pixels.
    for (double shift : {0.0, 0.21, 0.43}) {
        const auto v =
            drawVolume(96, 96, 21, 0.78125, 2.5, 40, {{5 + shift, -3 - shift, 0, 12, 7, 9, 30, 100}}, 6, 11, {-37.5, -37.5, -25});
        const assist::Proposal p = assist::measureAt(v, {5, -3, 0});
        ASSERT_TRUE(p.confident) << p.why;
        EXPECT_NEAR(p.longMm, 24.0, 0.3) << "shift " << shift;
        EXPECT_NEAR(p.shortMm, 14.0, 0.3) << "shift " << shift;
        EXPECT_EQ(p.slice, 10); // z = 0 is the lesion's largest cross-section
        // The long axis lies along 30 degrees, the short axis perpendicular to it.
        const double lx = p.longAxis[1][0] - p.longAxis[0][0], ly = p.longAxis[1][1] - p.longAxis[0][1];
        EXPECT_NEAR(std::abs(std::cos(std::atan2(ly, lx) - 30 * kPi / 180)), 1.0, 0.01);
        const double sxv = p.shortAxis[1][0] - p.shortAxis[0][0], syv = p.shortAxis[1][1] - p.shortAxis[0][1];
        EXPECT_NEAR((lx * sxv + ly * syv) / (p.longMm * p.shortMm), 0.0, 1e-6);
        EXPECT_GT(p.outline.size(), 20u);
        EXPECT_LT(p.millis, 1000.0);
    }
}
} // namespace
