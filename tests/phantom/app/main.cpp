// build/bin/phantom: writes a synthetic ReLUTH trial (DICOM + ground truth) from a seed.
#include "phantom/Generator.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

void usage(std::FILE* to) {
    std::fprintf(to, "usage: phantom --out DIR [--seed N] [--subjects N] [--timepoints K] [--slices S]\n"
                     "               [--thickness MM] [--threads N] [--mr-offset-days D] [--unscheduled]\n"
                     "               [--motion] [--hard-lesions] [--partial-volume] [--ct-noise HU]\n"
                     "  --mr-offset-days D  each visit's MR D days (0-6) after its CT: one visit, two scan days\n"
                     "  --unscheduled       an unscheduled CT 4 weeks after follow-up 1 (its own timepoint)\n"
                     "  --motion            each exam's own pose: shift +-20 mm, table z +-60 mm, rotation +-5 deg,\n"
                     "                      breathing 0-10 mm (truth per timepoint in ground-truth.json)\n"
                     "  --hard-lesions      non-target nodes against vessels of their density, a liver lesion\n"
                     "                      against an enhanced vein, a low-contrast liver lesion\n"
                     "  --partial-volume    edge pixels mix the tissues they cover (as a real CT's do)\n"
                     "  --ct-noise HU       the CT's noise (standard deviation, 0-200 HU; default 6): a noisier,\n"
                     "                      low-dose scan\n"
                     "       phantom --describe DIR    print a generated trial's contents and expected course\n"
                     "Writes a synthetic trial of DICOM files (CT, some MR, NM post-therapy scans, a\n"
                     "burned-in secondary capture, a corrupt file) with DIR/ground-truth.json and\n"
                     "DIR/enrolment.csv. Same seed, same bytes. Defaults: seed 1, 4 subjects,\n"
                     "3 timepoints, 120 slices of 2.5 mm.\n");
}

bool number(const char* text, long long lo, long long hi, long long& out) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text, &end, 10);
    if (errno || !end || *end || end == text || v < lo || v > hi) return false;
    out = v;
    return true;
}

/// What a generated trial holds, from its ground truth: a trial manager's first look.
int describe(const std::filesystem::path& dir) {
    std::ifstream in(dir / "ground-truth.json");
    if (!in) {
        std::fprintf(stderr, "phantom: %s has no ground-truth.json (not a generated trial, or generation did not finish)\n", dir.c_str());
        return 1;
    }
    nlohmann::json t;
    try {
        t = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "phantom: %s/ground-truth.json: %s\n", dir.c_str(), e.what());
        return 1;
    }
    std::printf("Synthetic trial %s (seed %llu): %zu subjects, site drops in %s/incoming\n",
                t["trial"]["study_id"].get<std::string>().c_str(), t["generator"]["seed"].get<unsigned long long>(), t["subjects"].size(),
                dir.c_str());
    for (const auto& s : t["subjects"]) {
        std::printf("\n%s  site %s  %s  randomized %s  course: %s%s\n", s["pseudonym"].get<std::string>().c_str(),
                    s["site"].get<std::string>().c_str(), s["arm"].get<std::string>().c_str(),
                    s["randomization_date"].get<std::string>().c_str(), s["course"].get<std::string>().c_str(),
                    s["has_mr"].get<bool>() ? ", CT + MR" : ", CT");
        for (const auto& tp : s["timepoints"]) {
            const auto& e = tp["expected"];
            std::printf("  %-9s %s  day %4d  SOD %6.1f mm", tp["label"].get<std::string>().c_str(),
                        tp["scan_date"].get<std::string>().c_str(), tp["day_from_randomization"].get<int>(),
                        e["sum_of_diameters_mm"].get<double>());
            if (e.contains("overall_response")) {
                std::printf(" (%+6.1f %%)  target %-2s  non-target %s  new %-9s  overall %s", e["pct_change_from_baseline"].get<double>(),
                            e["target_response"].get<std::string>().c_str(), e["non_target_response"].get<std::string>().c_str(),
                            e["new_lesion"].get<std::string>().c_str(), e["overall_response"].get<std::string>().c_str());
            }
            std::printf("\n");
        }
        const std::string pd = s["expected"]["progression_date"];
        std::printf("  best overall response %s, progression %s\n", s["expected"]["best_overall_response"].get<std::string>().c_str(),
                    pd.empty() ? "none" : pd.c_str());
    }
    std::printf("\nTo be quarantined by the anonymizer:\n");
    for (const auto& q : t["quarantine"]) {
        std::printf("  %s\n    %s\n", q["path"].get<std::string>().c_str(), q["reason"].get<std::string>().c_str());
    }
    std::printf("Arm leaks planted in headers: %zu (ground-truth.json, \"arm_leaks\")\n", t["arm_leaks"].size());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    phantom::Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "--motion") {
            o.motion = true;
            continue;
        }
        if (a == "--hard-lesions") {
            o.hardLesions = true;
            continue;
        }
        if (a == "--partial-volume") {
            o.partialVolume = true;
            continue;
        }
        if (a == "--unscheduled") {
            o.unscheduled = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "phantom: %s needs a value\n", a.c_str());
            usage(stderr);
            return 2;
        }
        const char* v = argv[++i];
        if (a == "--describe") return describe(v);
        long long n = 0;
        bool ok = true;
        if (a == "--out")
            o.out = v;
        else if (a == "--seed") {
            ok = number(v, 0, 9007199254740991ll, n);
            o.seed = static_cast<std::uint64_t>(n);
        } else if (a == "--subjects") {
            ok = number(v, 1, 10000, n);
            o.subjects = static_cast<int>(n);
        } else if (a == "--timepoints") {
            ok = number(v, 1, 20, n);
            o.timepoints = static_cast<int>(n);
        } else if (a == "--slices") {
            ok = number(v, 2, 2000, n);
            o.slices = static_cast<int>(n);
        } else if (a == "--threads") {
            ok = number(v, 0, 256, n);
            o.threads = static_cast<int>(n);
        } else if (a == "--mr-offset-days") {
            ok = number(v, 0, 6, n);
            o.mrOffsetDays = static_cast<int>(n);
        } else if (a == "--ct-noise") {
            ok = number(v, 0, 200, n);
            o.ctNoiseHu = static_cast<int>(n);
        } else if (a == "--thickness") {
            char* end = nullptr;
            o.sliceThicknessMm = std::strtod(v, &end);
            ok = end && !*end && end != v;
        } else {
            std::fprintf(stderr, "phantom: unknown option %s\n", a.c_str());
            usage(stderr);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "phantom: invalid value '%s' for %s\n", v, a.c_str());
            return 2;
        }
    }
    if (o.out.empty()) {
        std::fprintf(stderr, "phantom: --out DIR is required\n");
        usage(stderr);
        return 2;
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        const phantom::GenerateResult r = phantom::generateTrial(o);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("phantom: %d subjects x %d timepoints, %zu files, %.1f MB in %.2f s -> %s\n", o.subjects, o.timepoints, r.files,
                    r.bytes / 1e6, s, o.out.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "phantom: %s\n", e.what());
        return 1;
    }
}
