// Reading assistance (viewer/assist): the one-click measurement and the registration to the
// prior timepoint, on volumes drawn here analytically (independently of the phantom), with
// partial-volume edges, noise, neighbours of the same density and known rigid motion.
#include "assist/Assist.h"

#include "../common/Run.h"
#include "../common/TempDir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

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
TEST(Assist, ANodeAgainstABrightVesselInFatLeavesTheVesselsRimOut) {
    // A node (40 HU, 18 x 12 mm) in fat (-100 HU) whose side touches an enhanced vessel running
    // through every slice (180 HU, 20 mm across). The vessel's partial-volume rim in the fat
    // passes through the node's band (from the fat half-way up to the vessel half-way down): a
    // ring one pixel wide that touches the node where they meet. Taken in, it adds arms around the
    // vessel (the long axis grows, or the outline is refused as not compact).
    for (unsigned seed : {3u, 4u, 5u}) {
        const auto v = drawVolume(96, 96, 21, 0.78125, 2.5, -100, {{0, -16.2, 0, 10, 10, 1000, 0, 180}, {0, 0, 0, 9, 6, 8, 0, 40}}, 6, seed,
                                  {-37.5, -37.5, -25});
        assist::MeasureOptions o;
        o.node = true;
        const assist::Proposal p = assist::measureAt(v, {0, 0, 0}, o);
        ASSERT_TRUE(p.confident) << p.why << " (seed " << seed << ")";
        EXPECT_NEAR(p.longMm, 18.0, 0.5) << "seed " << seed;
        EXPECT_NEAR(p.shortMm, 12.0, 0.5) << "seed " << seed;
        EXPECT_EQ(p.slice, 10);
    }
}
TEST(Assist, AFaintLesionOnANoisyScanIsRefusedAsTooFaintWithItsContrast) {
    // A 24 x 18 mm lesion 17 HU darker than liver (60 HU). On a low-dose CT (30 HU noise) no edge
    // that weak can be seen: no proposal, and the reason names it as too faint, with about how
    // faint. The same lesion on an ordinary CT (6 HU) is measured; a clear lesion (60 HU) on the
    // noisy CT too.
    for (unsigned seed : {21u, 22u, 23u}) {
        const auto noisy = drawVolume(96, 96, 21, 0.78125, 2.5, 60, {{0, 0, 0, 12, 9, 10, 20, 43}}, 30, seed, {-37.5, -37.5, -25});
        const assist::Proposal p = assist::measureAt(noisy, {0, 0, 0});
        ASSERT_FALSE(p.confident) << "seed " << seed << ": " << p.longMm << " x " << p.shortMm;
        const std::string tag = "too faint to outline on this noisy image: it differs from its surroundings by about ";
        const auto at = p.why.find(tag);
        ASSERT_NE(at, std::string::npos) << p.why;
        const double hu = std::stod(p.why.substr(at + tag.size()));
        EXPECT_GE(hu, 11.0) << p.why; // the truth is 17 HU, a little less where the ring meets the lesion
        EXPECT_LE(hu, 20.0) << p.why;

        const auto clean = drawVolume(96, 96, 21, 0.78125, 2.5, 60, {{0, 0, 0, 12, 9, 10, 20, 43}}, 6, seed, {-37.5, -37.5, -25});
        const assist::Proposal q = assist::measureAt(clean, {0, 0, 0});
        ASSERT_TRUE(q.confident) << q.why;
        EXPECT_NEAR(q.longMm, 24.0, 0.8) << q.longMm;

        const auto clear = drawVolume(96, 96, 21, 0.78125, 2.5, 60, {{0, 0, 0, 12, 9, 10, 20, 120}}, 30, seed, {-37.5, -37.5, -25});
        const assist::Proposal c = assist::measureAt(clear, {0, 0, 0});
        ASSERT_TRUE(c.confident) << c.why;
        // (at 2 x the noise per pixel the noise in the outline lengthens the longest axis of the
        // slice search: 26.1 mm on seed 21 - within 10 %, not the 6 HU phantom's tenths of a mm)
        EXPECT_NEAR(c.longMm, 24.0, 2.4) << "seed " << seed << ": " << c.longMm << " x " << c.shortMm;
        EXPECT_NEAR(c.shortMm, 18.0, 1.8) << "seed " << seed << ": " << c.longMm << " x " << c.shortMm;
    }
    // in plain noise (nothing to outline) the refusal does not invent a faint lesion
    const auto empty = drawVolume(96, 96, 21, 0.78125, 2.5, 60, {}, 30, 31, {-37.5, -37.5, -25});
    const assist::Proposal e = assist::measureAt(empty, {0, 0, 0});
    ASSERT_FALSE(e.confident);
    EXPECT_EQ(e.why.find("too faint"), std::string::npos) << e.why;
}
} // namespace

// ---------------------------------------------------------------- lesion-assist, the command line

namespace cli {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct Result {
    int status = -1;
    std::string out;
};

Result run(const std::string& args) {
    Result r;
    r.status = testutil::run(std::string(RELUTH_BINARY_DIR) + "/bin/lesion-assist " + args + " 2>&1", &r.out);
    return r;
}

/// A phantom trial with motion and partial volume (made once).
const fs::path& trial() {
    static testutil::TempDir dir("assist-cli");
    static const bool made = [] {
        std::string out;
        const int st = testutil::run(std::string(RELUTH_BINARY_DIR) + "/bin/phantom --out " + (dir.path() / "trial").string() +
                                         " --seed 5 --subjects 1 --timepoints 2 --slices 60 --thickness 5 --motion --partial-volume",
                                     &out);
        EXPECT_EQ(st, 0) << out;
        return st == 0;
    }();
    (void)made;
    static const fs::path root = dir.path() / "trial";
    return root;
}

Json truth() {
    std::ifstream in(trial() / "ground-truth.json");
    return Json::parse(in);
}

std::string ctDir(const Json& subject, int timepoint) {
    for (const auto& s : subject["timepoints"][timepoint]["series"])
        if (s["modality"] == "CT") return (trial() / s["dir"].get<std::string>()).string();
    return {};
}

std::string at(const Json& c) {
    return std::to_string(c[0].get<double>()) + "," + std::to_string(c[1].get<double>()) + "," + std::to_string(c[2].get<double>());
}

} // namespace cli

TEST(AssistCli, MeasuresAPhantomLesionAndFindsItOnTheNextScan) {
    const auto t = cli::truth();
    const auto& s = t["subjects"][0];
    cli::Json t01;
    for (const auto& l : s["lesions"])
        if (l["id"] == "T01") t01 = l;
    ASSERT_FALSE(t01.is_null());
    const auto& tp0 = t01["timepoints"][0];
    const cli::Result m = cli::run("measure --series '" + cli::ctDir(s, 0) + "' --at " + cli::at(tp0["center_mm"]));
    ASSERT_EQ(m.status, 0) << m.out;
    const auto j = cli::Json::parse(m.out);
    ASSERT_TRUE(j["confident"].get<bool>()) << m.out;
    const auto& cs = tp0["largest_cross_section"]["ct"];
    EXPECT_NEAR(j["long_mm"].get<double>(), cs["long_axis_mm"].get<double>(), 1.0) << m.out;
    EXPECT_NEAR(j["short_mm"].get<double>(), cs["short_axis_mm"].get<double>(), 1.0) << m.out;
    EXPECT_EQ(j["long_axis"].size(), 2u);
    EXPECT_EQ(j["short_axis"].size(), 2u);
    EXPECT_FALSE(j["sop_instance_uid"].get<std::string>().empty());
    EXPECT_GT(j["measure_ms"].get<double>(), 0.0);

    const auto& tp1 = t01["timepoints"][1];
    const cli::Result p =
        cli::run("propagate --prior '" + cli::ctDir(s, 0) + "' --current '" + cli::ctDir(s, 1) + "' --at " + cli::at(tp0["center_mm"]));
    ASSERT_EQ(p.status, 0) << p.out;
    const auto q = cli::Json::parse(p.out);
    ASSERT_TRUE(q["inside"].get<bool>()) << p.out;
    const auto c1 = tp1["center_mm"];
    const double err = std::hypot(q["point"][0].get<double>() - c1[0].get<double>(), q["point"][1].get<double>() - c1[1].get<double>(),
                                  q["point"][2].get<double>() - c1[2].get<double>());
    EXPECT_LT(err, std::min(10.0, tp1["short_axis_mm"].get<double>() / 2)) << p.out;
    EXPECT_FALSE(q["sop_instance_uid"].get<std::string>().empty());
    EXPECT_GT(q["global_ms"].get<double>(), 0.0);
    EXPECT_GE(q["local_ms"].get<double>(), 0.0);
}

TEST(AssistCli, BadInputGetsAClearErrorAndAStatusNeverACrash) {
    const auto t = cli::truth();
    const std::string series = cli::ctDir(t["subjects"][0], 0);
    // no such folder: named, status 1
    cli::Result r = cli::run("measure --series /nonexistent/folder --at 0,0,0");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("/nonexistent/folder"), std::string::npos) << r.out;
    // a malformed point: the option is named, status 2
    r = cli::run("measure --series '" + series + "' --at 1,2");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("at"), std::string::npos) << r.out;
    r = cli::run("measure --series '" + series + "' --at 1,2,nan");
    EXPECT_EQ(r.status, 2) << r.out;
    r = cli::run("frobnicate --series '" + series + "' --at 1,2,3");
    EXPECT_EQ(r.status, 2) << r.out;
    // outside the series: a result that says why, no proposal
    r = cli::run("measure --series '" + series + "' --at 0,0,5000");
    ASSERT_EQ(r.status, 0) << r.out;
    auto j = cli::Json::parse(r.out);
    EXPECT_FALSE(j["confident"].get<bool>());
    EXPECT_NE(j["why"].get<std::string>().find("outside"), std::string::npos) << r.out;
    // in air: no closed edge, not confident
    r = cli::run("measure --series '" + series + "' --at 0,-190,0");
    ASSERT_EQ(r.status, 0) << r.out;
    j = cli::Json::parse(r.out);
    EXPECT_FALSE(j["confident"].get<bool>()) << r.out;
    EXPECT_FALSE(j["why"].get<std::string>().empty());
    // files from another tool: pydicom's test files (a folder of many series, single images,
    // odd encodings) - a clear error naming the folder or a result, never a crash
    const std::filesystem::path odd = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
    ASSERT_TRUE(std::filesystem::is_directory(odd)) << "python3-pydicom is required";
    r = cli::run("measure --series '" + odd.string() + "' --at 0,0,0");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find(odd.string()), std::string::npos) << r.out;
    testutil::TempDir one("assist-odd");
    for (const char* f :
         {"CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "MR_truncated.dcm", "liver_1frame.dcm", "JPEG2000.dcm", "rtdose.dcm"}) {
        std::filesystem::create_directories(one.path() / f);
        std::filesystem::copy_file(odd / f, one.path() / f / f);
        r = cli::run("measure --series '" + (one.path() / f).string() + "' --at 0,0,0");
        EXPECT_TRUE(r.status == 0 || r.status == 1) << f << ": " << r.status << " " << r.out;
        EXPECT_FALSE(r.out.empty()) << f;
        if (r.status == 1) {
            EXPECT_NE(r.out.find(f), std::string::npos) << r.out;
        }
    }
    r = cli::run("propagate --prior '" + series + "' --current '" + (one.path() / "CT_small.dcm").string() + "' --at 0,0,0");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_FALSE(r.out.empty());
}
