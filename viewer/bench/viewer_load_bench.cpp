// build/bin/viewer-load-bench: how fast the viewer gets a CT series on screen and in memory,
// against ITK's ImageSeriesReader and a plain GDCM read loop on the same files, each run in a
// fresh process of its own so that its peak memory is its own.
//   viewer-load-bench SERIES_DIR [--runs N]        all three, a table (median of N runs, default 3)
//   viewer-load-bench SERIES_DIR --only ours|gdcm|itk   one run of one reader (what the table runs)
// "gdcm": gdcm::Reader per file and a copy of its pixel element (no rescale, no sort).
// "ours": header scan + geometry + the middle slice decoded (time to first image) and the
// whole volume in HU (time to full volume), 2 threads. Peak memory is the process's VmHWM
// against the volume's voxel bytes (512 x 512 x slices x 2).
#include "viewercore/Series.h"

#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long peakKb() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

int runOne(const fs::path& dir, const std::string& which) {
    const auto t0 = Clock::now();
    double first = 0, full = 0;
    std::size_t voxels = 0;
    if (which == "ours") {
        const vc::Scan scan = vc::scanFolder(dir);
        if (scan.series.size() != 1) {
            std::fprintf(stderr, "%s: expected one series, found %zu\n", dir.c_str(), scan.series.size());
            return 2;
        }
        const vc::Geometry g = vc::analyze(scan.series[0]);
        if (!g.ok) {
            std::fprintf(stderr, "%s\n", g.problem.c_str());
            return 2;
        }
        std::atomic<bool> seen{false};
        vc::LoadCallbacks cb;
        cb.middleReady = [&](int) {
            first = since(t0);
            seen = true;
        };
        const vc::Volume v = vc::load(scan.series[0], g, cb, 2);
        full = since(t0);
        voxels = v.voxels.size();
    } else if (which == "gdcm") {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        std::vector<char> volume;
        std::size_t at = 0;
        for (const fs::path& f : files) {
            // the plainest loop: parse each file, copy its pixel element's bytes into the volume
            gdcm::Reader r;
            r.SetFileName(f.c_str());
            if (!r.Read()) return std::fprintf(stderr, "gdcm cannot read %s\n", f.c_str()), 2;
            const gdcm::DataElement& px = r.GetFile().GetDataSet().GetDataElement(gdcm::Tag(0x7fe0, 0x0010));
            const gdcm::ByteValue* bv = px.GetByteValue();
            if (!bv) return std::fprintf(stderr, "gdcm: no native pixel data in %s\n", f.c_str()), 2;
            const std::size_t len = bv->GetLength();
            if (volume.empty()) volume.resize(len * files.size());
            std::memcpy(volume.data() + at, bv->GetPointer(), std::min(len, volume.size() - at));
            at += len;
            if (first == 0) first = since(t0);
        }
        full = since(t0);
        voxels = volume.size() / 2;
    } else if (which == "itk") {
        using Image = itk::Image<short, 3>;
        auto names = itk::GDCMSeriesFileNames::New();
        names->SetDirectory(dir.string());
        auto reader = itk::ImageSeriesReader<Image>::New();
        reader->SetImageIO(itk::GDCMImageIO::New());
        reader->SetFileNames(names->GetInputFileNames());
        reader->Update();
        full = first = since(t0);
        voxels = reader->GetOutput()->GetLargestPossibleRegion().GetNumberOfPixels();
    } else {
        return 2;
    }
    std::printf("%s %.4f %.4f %ld %zu\n", which.c_str(), first, full, peakKb(), voxels);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: viewer-load-bench SERIES_DIR [--runs N] | SERIES_DIR --only ours|gdcm|itk\n");
        return 2;
    }
    const fs::path dir = argv[1];
    int runs = 3;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--only") == 0) return runOne(dir, argv[i + 1]);
        if (std::strcmp(argv[i], "--runs") == 0) {
            char* end = nullptr;
            const long v = std::strtol(argv[i + 1], &end, 10);
            if (!end || *end || v < 1 || v > 1000) {
                std::fprintf(stderr, "viewer-load-bench: --runs '%s' is not a number of runs (1-1000)\n", argv[i + 1]);
                return 2;
            }
            runs = static_cast<int>(v);
        } else {
            std::fprintf(stderr, "viewer-load-bench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    std::map<std::string, std::vector<std::vector<double>>> results;
    std::size_t voxels = 0;
    for (int r = 0; r < runs; ++r) {
        for (const char* which : {"gdcm", "itk", "ours"}) {
            const std::string cmd = std::string("'") + argv[0] + "' '" + dir.string() + "' --only " + which;
            FILE* p = ::popen(cmd.c_str(), "r");
            char name[16];
            double first = 0, full = 0;
            long kb = 0;
            std::size_t n = 0;
            if (!p || std::fscanf(p, "%15s %lf %lf %ld %zu", name, &first, &full, &kb, &n) != 5) {
                std::fprintf(stderr, "%s failed\n", which);
                return 1;
            }
            ::pclose(p);
            results[which].push_back({first, full, static_cast<double>(kb)});
            voxels = n;
        }
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    auto col = [&](const std::string& w, int c) {
        std::vector<double> v;
        for (const auto& r : results[w]) v.push_back(r[static_cast<std::size_t>(c)]);
        return median(v);
    };
    const double voxelMb = static_cast<double>(voxels) * 2 / 1048576.0;
    std::printf("series %s: %zu voxels (%.0f MB as 16-bit), median of %d runs, warm page cache\n", dir.c_str(), voxels, voxelMb, runs);
    std::printf("%-28s %12s %12s %14s\n", "reader", "first image", "full volume", "peak memory");
    for (const char* w : {"ours", "gdcm", "itk"}) {
        const char* label = std::strcmp(w, "ours") == 0   ? "viewer core (2 threads)"
                            : std::strcmp(w, "gdcm") == 0 ? "plain GDCM read loop"
                                                          : "ITK ImageSeriesReader";
        std::printf("%-28s %10.3f s %10.3f s %8.0f MB (%.2fx voxels)\n", label, col(w, 0), col(w, 1), col(w, 2) / 1024,
                    col(w, 2) / 1024 / voxelMb);
    }
    std::printf(
        "goals: first image < 0.1 s: %.3f s; full volume <= 1.5x GDCM: %.2fx; >= 3x faster than ITK: %.1fx; peak < 1.3x voxels: %.2fx\n",
        col("ours", 0), col("ours", 1) / col("gdcm", 1), col("itk", 1) / col("ours", 1), col("ours", 2) / 1024 / voxelMb);
    return 0;
}
