// lesion-assist-bench: the reading assistance measured against the phantom's truth, over a
// multi-seed trial made hard (phantom --motion --hard-lesions --partial-volume), rendered in
// memory (the same pixels the DICOM writer stores). Prints tables; it is not a timed test.
//   lesion-assist-bench [--seeds N] [--first-seed S] [--subjects N] [--timepoints K]
// One-click measurement: every lesion present on a CT, clicked at its true centre, then at 4
// points inside its inner half; long- and short-axis error against the truth on the slice
// nearest the centre (the largest cross-section the scan has), by kind of lesion. Propagation:
// every pair of consecutive timepoints of a subject, every lesion in both: the distance from
// the proposed to the true centre, on the right slice +-1, and the stages' times.
#include "assist/Assist.h"
#include "phantom/Plan.h"
#include "phantom/Render.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

namespace po = boost::program_options;
constexpr double kPi = 3.14159265358979323846;

vc::Volume render(const phantom::TrialPlan& plan, const phantom::Subject& s, int timepoint, const phantom::SeriesPlan& se) {
    vc::Volume v;
    auto& g = v.geometry;
    g.ok = true;
    g.nx = se.columns;
    g.ny = se.rows;
    g.nz = se.slices;
    // Ascending z along the normal (0, 0, 1): volume slice k is instance slices - k.
    g.origin = {se.originXMm, se.originYMm, se.zOfSlice(se.slices - 1)};
    g.spacing = {se.pixelSpacingMm[1], se.pixelSpacingMm[0], se.sliceThicknessMm};
    g.row = {1, 0, 0};
    g.column = {0, 1, 0};
    g.normal = {0, 0, 1};
    v.voxels.resize(static_cast<std::size_t>(g.nx) * g.ny * g.nz);
    std::vector<std::uint16_t> px;
    for (int i = 0; i < se.slices; ++i) {
        phantom::renderSlice(plan, s, timepoint, se, i, px);
        const int k = se.slices - 1 - i;
        std::int16_t* out = v.voxels.data() + static_cast<std::size_t>(k) * g.nx * g.ny;
        for (std::size_t q = 0; q < px.size(); ++q) out[q] = static_cast<std::int16_t>(int(px[q]) - 1024);
    }
    return v;
}

const phantom::SeriesPlan* ctOf(const phantom::Subject& s, int timepoint) {
    for (const auto& st : s.studies) {
        if (st.timepoint != timepoint || st.unscheduled) continue;
        for (const auto& se : st.series) {
            if (se.modality == "CT") return &se;
        }
    }
    return nullptr;
}

std::string kindOf(const phantom::Lesion& l) {
    if (l.kind == "node_by_vessel" || l.kind == "liver_by_vein") return "next to a vessel";
    if (l.kind == "low_contrast") return "low contrast (17 HU)";
    switch (l.site) {
    case phantom::LesionSite::Liver: return "liver (60 HU)";
    case phantom::LesionSite::Lung: return "lung";
    case phantom::LesionSite::LymphNode: return "lymph node";
    }
    return "?";
}

double pct(std::vector<double> v, double q) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = q * (v.size() - 1);
    const std::size_t i = static_cast<std::size_t>(pos);
    return i + 1 < v.size() ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

struct KindStats {
    std::vector<double> longErr, shortErr, spread, ms;
    int clicks = 0, confident = 0, gross = 0, wrongSilent = 0, sliceExact = 0, sliceNear = 0;
};

} // namespace

int main(int argc, char** argv) {
    int seeds = 13, firstSeed = 101, subjects = 4, timepoints = 5;
    bool verbose = false;
    std::string only;
    po::options_description opts("lesion-assist-bench");
    opts.add_options()("help,h", "this help")("seeds", po::value(&seeds), "phantom trials (default 13)")(
        "first-seed", po::value(&firstSeed), "first seed (default 101)")("subjects", po::value(&subjects),
                                                                         "subjects per trial (default 4)")(
        "timepoints", po::value(&timepoints), "timepoints per subject (default 5)")("verbose", po::bool_switch(&verbose),
                                                                                    "name every silent error on stderr")(
        "subject", po::value(&only), "only this subject's pseudonym (e.g. RELUTH-04-001), to look at one error");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
        if (vm.count("help")) {
            std::cout << opts;
            return 0;
        }
        if (seeds < 1 || subjects < 1 || timepoints < 2) throw po::error("--seeds and --subjects at least 1, --timepoints at least 2");
    } catch (const po::error& e) {
        std::fprintf(stderr, "lesion-assist-bench: %s\n", e.what());
        return 2;
    }
    std::map<std::string, KindStats> kinds;
    std::vector<double> propErr, globalMs, localMs, renderMs;
    int propN = 0, propWithin = 0, propSlice = 0, pairs = 0, lesions = 0;
    std::vector<double> allClickMs;
    for (int seed = firstSeed; seed < firstSeed + seeds; ++seed) {
        phantom::Options o;
        o.seed = static_cast<std::uint64_t>(seed);
        o.subjects = subjects;
        o.timepoints = timepoints;
        o.motion = o.hardLesions = o.partialVolume = true;
        const phantom::TrialPlan plan = phantom::makePlan(o);
        for (const auto& s : plan.subjects) {
            if (!only.empty() && s.pseudonym != only) continue;
            vc::Volume prior;
            for (int k = 0; k < timepoints; ++k) {
                const phantom::SeriesPlan* se = ctOf(s, k);
                if (!se) continue;
                auto t0 = std::chrono::steady_clock::now();
                vc::Volume cur = render(plan, s, k, *se);
                renderMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                // One click per lesion (and four more inside its inner half).
                unsigned jitter = static_cast<unsigned>(seed * 7919 + s.index * 31 + k);
                for (const auto& l : s.lesions) {
                    const auto& st = l.states[static_cast<std::size_t>(k)];
                    if (!st.present) continue;
                    const phantom::Vec3 c = phantom::lesionCenterAt(s, l, k);
                    const int trueSlice = assist::nearestSlice(cur.geometry, {c.x, c.y, c.z});
                    const double dz = cur.geometry.origin[2] + trueSlice * cur.geometry.spacing[2] - c.z, h = st.ccTenthsMm / 20.0;
                    const double f = std::abs(dz) < h ? std::sqrt(1 - dz * dz / (h * h)) : 0;
                    const double trueLong = st.longMm() * f, trueShort = st.shortMm() * f;
                    if (trueShort < 3) continue;
                    ++lesions;
                    KindStats& ks = kinds[kindOf(l)];
                    assist::MeasureOptions mo;
                    mo.node = l.site == phantom::LesionSite::LymphNode;
                    const double angle = (l.angleDeg + s.timepoints[static_cast<std::size_t>(k)].pose.rotationDeg) * kPi / 180;
                    std::vector<double> longs;
                    std::string detail; // each confident click: long axis @ slice
                    for (int click = 0; click < 5; ++click) {
                        double u = 0, w = 0, dzClick = 0;
                        if (click > 0) { // inside the inner half: the ellipsoid of half the axes, on any slice through it
                            jitter = jitter * 1103515245u + 12345u;
                            const double r = std::sqrt((jitter >> 8) % 1000 / 1000.0) * 0.5, a = ((jitter >> 4) % 360) * kPi / 180;
                            u = r * std::cos(a) * trueLong / 2;
                            w = r * std::sin(a) * trueShort / 2;
                            jitter = jitter * 1103515245u + 12345u;
                            dzClick = (((jitter >> 8) % 1001) / 500.0 - 1.0) * 0.5 * h * std::sqrt(std::max(0.0, 1 - 4 * r * r));
                        }
                        const assist::P3 at{c.x + u * std::cos(angle) - w * std::sin(angle),
                                            c.y + u * std::sin(angle) + w * std::cos(angle), c.z + dzClick};
                        const assist::Proposal p = assist::measureAt(cur, at, mo);
                        allClickMs.push_back(p.millis);
                        ks.ms.push_back(p.millis);
                        ++ks.clicks;
                        const double el = p.longMm - trueLong, es = p.shortMm - trueShort;
                        const bool wrong = std::abs(el) > std::max(2.0, 0.1 * trueLong) || std::abs(es) > std::max(2.0, 0.1 * trueShort);
                        if (!p.confident) continue;
                        ++ks.confident;
                        if (wrong) ++ks.wrongSilent;
                        if (wrong && verbose) {
                            std::fprintf(
                                stderr,
                                "  silent error: seed %d %s %s (%s) timepoint %d click %d: %.2f x %.2f mm, truth %.2f x %.2f; slice %d "
                                "(truth %d), long axis (%.1f, %.1f) - (%.1f, %.1f), centre (%.1f, %.1f, %.1f)\n",
                                seed, s.pseudonym.c_str(), l.id.c_str(), l.kind.c_str(), k, click, p.longMm, p.shortMm, trueLong, trueShort,
                                p.slice, trueSlice, p.longAxis[0][0], p.longAxis[0][1], p.longAxis[1][0], p.longAxis[1][1], c.x, c.y, c.z);
                        }
                        if (std::abs(el) > 0.2 * trueLong || std::abs(es) > 0.2 * trueShort) ++ks.gross;
                        longs.push_back(p.longMm);
                        detail += " " + std::to_string(p.longMm).substr(0, 5) + "@" + std::to_string(p.slice);
                        if (click == 0) {
                            ks.longErr.push_back(std::abs(el));
                            ks.shortErr.push_back(std::abs(es));
                            ks.sliceExact += p.slice == trueSlice;
                            ks.sliceNear += std::abs(p.slice - trueSlice) <= 1;
                        }
                    }
                    if (longs.size() >= 2) {
                        const auto [mn, mx] = std::minmax_element(longs.begin(), longs.end());
                        ks.spread.push_back(*mx - *mn);
                        if (verbose && *mx - *mn > std::max(0.5, 0.02 * trueLong)) {
                            std::fprintf(stderr, "  wide spread: seed %d %s %s (%s) timepoint %d: long axis %.2f to %.2f mm (%s), truth %.2f @ %d\n",
                                         seed, s.pseudonym.c_str(), l.id.c_str(), l.kind.c_str(), k, *mn, *mx, detail.c_str(), trueLong, trueSlice);
                        }
                    }
                }
                // Propagation from the previous timepoint.
                if (k > 0 && !prior.voxels.empty()) {
                    ++pairs;
                    try {
                        const assist::Registration reg = assist::Registration::global(prior, cur);
                        globalMs.push_back(reg.globalMillis());
                        for (const auto& l : s.lesions) {
                            const auto& a = l.states[static_cast<std::size_t>(k - 1)];
                            const auto& b = l.states[static_cast<std::size_t>(k)];
                            if (!a.present || !b.present) continue;
                            const phantom::Vec3 pc = phantom::lesionCenterAt(s, l, k - 1), cc = phantom::lesionCenterAt(s, l, k);
                            t0 = std::chrono::steady_clock::now();
                            const assist::P3 q = reg.mapLocal({pc.x, pc.y, pc.z});
                            localMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                            const double d =
                                std::sqrt((q[0] - cc.x) * (q[0] - cc.x) + (q[1] - cc.y) * (q[1] - cc.y) + (q[2] - cc.z) * (q[2] - cc.z));
                            propErr.push_back(d);
                            ++propN;
                            propWithin += d <= std::min(b.shortMm() / 2, 10.0);
                            propSlice += std::abs(assist::nearestSlice(cur.geometry, q) -
                                                  assist::nearestSlice(cur.geometry, {cc.x, cc.y, cc.z})) <= 1;
                        }
                    } catch (const std::exception& e) {
                        std::fprintf(stderr, "seed %d %s timepoints %d-%d: %s\n", seed, s.pseudonym.c_str(), k - 1, k, e.what());
                    }
                }
                prior = std::move(cur);
            }
        }
        std::fprintf(stderr, "seed %d done: %d lesions measured, %d pairs so far\n", seed, lesions, pairs);
    }
    std::printf("lesion-assist-bench: %d seeds x %d subjects x %d timepoints (phantom --motion --hard-lesions --partial-volume, "
                "CT 512x512 0.78 mm, 2.5 mm slices)\n\n",
                seeds, subjects, timepoints);
    std::printf("One-click measurement: %d lesion-timepoints, %zu clicks (the centre + 4 in the inner half)\n", lesions, allClickMs.size());
    std::printf("%-22s %6s %6s | %-20s | %-20s | %6s %6s | %6s %6s | %9s\n", "kind", "clicks", "conf%", "long |err| med/p95 mm",
                "short |err| med/p95", "gross", "silent", "slice=", "+-1", "spread p95");
    for (const auto& [name, k] : kinds) {
        std::printf("%-22s %6d %5.1f%% | %8.2f / %8.2f   | %8.2f / %8.2f   | %6d %6d | %5.1f%% %5.1f%% | %7.2f mm\n", name.c_str(),
                    k.clicks, 100.0 * k.confident / std::max(1, k.clicks), pct(k.longErr, 0.5), pct(k.longErr, 0.95), pct(k.shortErr, 0.5),
                    pct(k.shortErr, 0.95), k.gross, k.wrongSilent, 100.0 * k.sliceExact / std::max<std::size_t>(1, k.longErr.size()),
                    100.0 * k.sliceNear / std::max<std::size_t>(1, k.longErr.size()), pct(k.spread, 0.95));
    }
    std::printf("  gross: confident and off by > 20 %%; silent: confident and off by > max(2 mm, 10 %%) on either axis;\n"
                "  slice: the chosen slice vs the slice nearest the true centre; spread: max - min long axis over the 5 clicks\n");
    std::printf("time per click: median %.1f ms, p95 %.1f ms, max %.1f ms (slice search included)\n\n", pct(allClickMs, 0.5),
                pct(allClickMs, 0.95), pct(allClickMs, 1.0));
    double mean = 0;
    for (double d : propErr) mean += d;
    mean /= std::max<std::size_t>(1, propErr.size());
    std::printf("Propagation: %d timepoint pairs, %d lesions\n", pairs, propN);
    std::printf("  distance to the true centre: mean %.2f mm, median %.2f, p95 %.2f, max %.2f\n", mean, pct(propErr, 0.5),
                pct(propErr, 0.95), pct(propErr, 1.0));
    std::printf("  within min(radius, 10 mm): %.1f %%; on the right slice +-1: %.1f %%\n", 100.0 * propWithin / std::max(1, propN),
                100.0 * propSlice / std::max(1, propN));
    std::printf("  global stage per pair: median %.0f ms, p95 %.0f ms, max %.0f ms; local stage per lesion: median %.0f ms, p95 %.0f ms\n",
                pct(globalMs, 0.5), pct(globalMs, 0.95), pct(globalMs, 1.0), pct(localMs, 0.5), pct(localMs, 0.95));
    std::printf("  (rendering one CT volume in memory: median %.0f ms)\n", pct(renderMs, 0.5));
    return 0;
}
