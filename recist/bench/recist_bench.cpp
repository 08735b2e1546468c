// build/bin/recist-bench: the engine's throughput and memory on a generated trial, and the
// cost of the viewer's live re-evaluation of one subject.
//
//   recist-bench [--subjects N] [--dir DIR] [--runs N] [--keep]
//
// 1. Writes a trial as SDTM CSV (N subjects x 8 visits x 5 targets + 3 non-targets; default
//    100,000 subjects) into DIR.
// 2. Runs the measured phase in a fresh process (so the generator's memory does not count):
//    read the files (TR streamed), parse and validate, evaluate every subject, write RS.csv -
//    as `recist evaluate` does. Prints TR rows per second and peak memory against the CSV size.
// 3. Times recist::evaluate() on one 8-visit subject through the C++ API.
#include "recist/Evaluate.h"
#include "recist/Sdtm.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>
#include <sys/wait.h>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

long peakRssKb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    }
    return -1;
}

std::string dateAfter(int days) {
    recist::Date d;
    recist::Date::parse("2024-01-15", d);
    return d.plusDays(days).iso();
}

/// Writes TU/TR/SUBJ/config for n subjects; returns the number of TR rows.
long generate(const fs::path& dir, long n) {
    fs::create_directories(dir);
    std::ofstream tu(dir / "TU.csv"), tr(dir / "TR.csv"), subj(dir / "SUBJ.csv"), cfg(dir / "config.json");
    cfg << R"({"confirmation_required": false, "confirmation_min_days": 28, "sd_min_days_from_baseline": 42, "dcr_landmark_days": 183, "dcr_window_days": 28})";
    tu << "STUDYID,USUBJID,TULNKID,TUORRES,TULOC,TUEVAL,TUEVALID,VISIT,VISITNUM,TUDTC\n";
    tr << "STUDYID,USUBJID,TRLNKID,TRTESTCD,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,VISIT,VISITNUM,TRDTC\n";
    subj << "STUDYID,USUBJID,RANDDT,DTHDT\n";
    std::mt19937 rng(20261128);
    const char* organs[] = {"LIVER", "LIVER", "LUNG", "LYMPH NODE", "PERITONEUM"};
    const char* ntOrgans[] = {"BONE", "LIVER", "LYMPH NODE"};
    long rows = 0;
    char buf[256];
    for (long s = 0; s < n; ++s) {
        char id[32];
        std::snprintf(id, sizeof id, "RELUTH-%02ld-%05ld", s % 22 + 1, s);
        subj << "RELUTH," << id << ",2024-01-15,\n";
        const double trend = std::uniform_real_distribution<double>(-0.08, 0.06)(rng);
        int size[5];
        for (int t = 0; t < 5; ++t) {
            size[t] = t == 3 ? 150 + static_cast<int>(rng() % 200) : 100 + static_cast<int>(rng() % 400);
            std::snprintf(buf, sizeof buf, "RELUTH,%s,T%02d,TARGET,%s,INDEPENDENT ASSESSOR,RADIOLOGIST 1,BASELINE,1,2024-01-10\n", id,
                          t + 1, organs[t]);
            tu << buf;
        }
        for (int t = 0; t < 3; ++t) {
            std::snprintf(buf, sizeof buf, "RELUTH,%s,NT%02d,NON-TARGET,%s,INDEPENDENT ASSESSOR,RADIOLOGIST 1,BASELINE,1,2024-01-10\n", id,
                          t + 1, ntOrgans[t]);
            tu << buf;
        }
        for (int v = 1; v <= 8; ++v) {
            const std::string date = v == 1 ? "2024-01-10" : dateAfter(56 * (v - 1) + static_cast<int>(rng() % 7) - 3);
            const double factor = 1.0 + trend * (v - 1);
            for (int t = 0; t < 5; ++t) {
                const int tenths = v == 1 ? size[t] : std::max(0, static_cast<int>(size[t] * factor) + static_cast<int>(rng() % 11) - 5);
                std::snprintf(buf, sizeof buf, "RELUTH,%s,T%02d,%s,%d.%d,mm,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,WEEK %d,%d,%s\n", id,
                              t + 1, t == 3 ? "SAXIS" : "LDIAM", tenths / 10, tenths % 10, 8 * (v - 1), v, date.c_str());
                tr << buf;
                ++rows;
            }
            for (int t = 0; t < 3; ++t) {
                const char* state = (v > 4 && rng() % 40 == 0) ? "UNEQUIVOCAL PROGRESSION" : "PRESENT";
                std::snprintf(buf, sizeof buf, "RELUTH,%s,NT%02d,TUMSTATE,%s,,,,INDEPENDENT ASSESSOR,RADIOLOGIST 1,WEEK %d,%d,%s\n", id,
                              t + 1, state, 8 * (v - 1), v, date.c_str());
                tr << buf;
                ++rows;
            }
        }
    }
    return rows;
}

/// The measured phase, in its own process.
int measure(const fs::path& dir, long trRows) {
    const auto t1 = Clock::now();
    recist::sdtm::Input in = recist::sdtm::parseFiles((dir / "TU.csv").string(), (dir / "TR.csv").string(), (dir / "SUBJ.csv").string(),
                                                      (dir / "config.json").string());
    if (!in.errors.empty()) {
        std::fprintf(stderr, "unexpected: %s\n", in.errors.front().format().c_str());
        return 1;
    }
    const auto t2 = Clock::now();
    std::size_t rsBytes = 0;
    {
        std::ofstream out(dir / "RS.csv", std::ios::binary);
        // Evaluate and write subject by subject, as the CLI does, so results do not pile up.
        out << "STUDYID,USUBJID,RSEVALID,VISITNUM,RSTESTCD,RSORRES,RSDTC\n";
        std::vector<recist::SubjectResult> one(1);
        for (const recist::Read& r : in.reads) {
            one[0] = recist::evaluate(r, in.options);
            const std::string rows = recist::sdtm::writeRs(one);
            const std::size_t header = rows.find('\n') + 1;
            out.write(rows.data() + header, static_cast<std::streamsize>(rows.size() - header));
            rsBytes += rows.size() - header;
        }
    }
    const auto t3 = Clock::now();
    const auto tuBytes = fs::file_size(dir / "TU.csv"), trBytes = fs::file_size(dir / "TR.csv"),
               subjBytes = fs::file_size(dir / "SUBJ.csv");
    const double csvBytes = static_cast<double>(tuBytes + trBytes + subjBytes);
    const double total = seconds(t1, t3);
    std::printf("subjects             %zu\n", in.reads.size());
    std::printf("TR rows              %ld (CSV %.1f MB: TU %.1f, TR %.1f, SUBJ %.1f)\n", trRows, csvBytes / 1e6, tuBytes / 1e6,
                trBytes / 1e6, subjBytes / 1e6);
    std::printf("read + parse + validate  %.2f s (TR streamed in 16 MB blocks)\n", seconds(t1, t2));
    std::printf("evaluate + write RS  %.2f s (RS %.1f MB)\n", seconds(t2, t3), rsBytes / 1e6);
    std::printf("throughput           %.2f million TR rows/s (read + parse + evaluate + write, one core)\n", trRows / total / 1e6);
    const long peak = peakRssKb();
    std::printf("peak memory          %.1f MB = %.2f x the CSV size\n", peak / 1024.0, peak * 1024.0 / csvBytes);
    return 0;
}

void apiTiming() {
    // One subject of 8 visits, 5 targets + 3 non-targets: the viewer re-evaluates on every edit.
    recist::Read read;
    read.studyId = "RELUTH";
    read.subjectId = "RELUTH-01-001";
    read.evaluator = "RADIOLOGIST 1";
    recist::Date::parse("2024-01-15", read.randomization);
    const char* organs[] = {"LIVER", "LIVER", "LUNG", "LYMPH NODE", "PERITONEUM"};
    for (int t = 0; t < 8; ++t) {
        recist::Lesion l;
        l.id = t < 5 ? "T0" + std::to_string(t + 1) : "NT0" + std::to_string(t - 4);
        l.role = t < 5 ? recist::LesionRole::Target : recist::LesionRole::NonTarget;
        l.location = t < 5 ? organs[t] : "BONE";
        l.nodal = t == 3;
        l.identifiedAt.millionths = 1000000;
        read.lesions.push_back(l);
    }
    for (int v = 1; v <= 8; ++v) {
        recist::Visit visit;
        visit.number.millionths = v * 1000000;
        for (int t = 0; t < 8; ++t) {
            recist::Assessment a;
            recist::Date d;
            recist::Date::parse("2024-01-10", d);
            a.date = d.plusDays(56 * (v - 1));
            a.kind = t < 5 ? recist::Assessment::Kind::Measured : recist::Assessment::Kind::Present;
            a.value = recist::Length::fromTenthsMm(200 + 10 * t - 8 * v);
            visit.set(read.lesions[static_cast<std::size_t>(t)].id, a);
        }
        read.visits.push_back(visit);
    }
    const recist::Options options;
    const int iterations = 20000;
    std::size_t sink = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
        read.visits[7].find("T01")->value.um = 15000 + i % 100; // an edit
        sink += recist::evaluate(read, options).visits.size();
    }
    const auto t1 = Clock::now();
    std::printf("one subject, 8 visits: %.1f us per evaluate() through the C++ API (%d runs, %zu)\n", seconds(t0, t1) / iterations * 1e6,
                iterations, sink / iterations);
}

} // namespace

int main(int argc, char** argv) {
    long subjects = 100000;
    fs::path dir = fs::temp_directory_path() / ("recist-bench-" + std::to_string(::getpid()));
    bool keep = false;
    int runs = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--measure" && i + 2 < argc) return measure(argv[i + 1], std::atol(argv[i + 2]));
        if (a == "--subjects" && i + 1 < argc) {
            char* end = nullptr;
            subjects = std::strtol(argv[++i], &end, 10);
            if (!end || *end || subjects < 1) {
                std::fprintf(stderr, "recist-bench: --subjects '%s' is not a positive number\n", argv[i]);
                return 2;
            }
        } else if (a == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--keep")
            keep = true;
        else if (a == "--runs" && i + 1 < argc) {
            char* end = nullptr;
            const long v = std::strtol(argv[++i], &end, 10);
            if (!end || *end || v < 1 || v > 1000) {
                std::fprintf(stderr, "recist-bench: --runs '%s' is not a number of runs (1-1000)\n", argv[i]);
                return 2;
            }
            runs = static_cast<int>(v);
        } else {
            std::fprintf(stderr, "usage: recist-bench [--subjects N] [--dir DIR] [--runs N] [--keep]\n");
            return 2;
        }
    }
    const auto t0 = Clock::now();
    const long rows = generate(dir, subjects);
    std::printf("generated %ld subjects in %.1f s -> %s\n", subjects, seconds(t0, Clock::now()), dir.c_str());
    std::fflush(stdout);
    // Three measured runs, each in a fresh process: this is a shared virtual machine, so
    // compare runs rather than trusting one.
    int status = 0;
    for (int run = 1; run <= runs && status == 0; ++run) {
        std::printf("-- run %d of %d\n", run, runs);
        std::fflush(stdout);
        const pid_t pid = fork();
        if (pid == 0) {
            const std::string rowsText = std::to_string(rows);
            execl("/proc/self/exe", argv[0], "--measure", dir.c_str(), rowsText.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        waitpid(pid, &status, 0);
    }
    apiTiming();
    if (!keep) fs::remove_all(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
