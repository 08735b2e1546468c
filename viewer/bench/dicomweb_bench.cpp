// build/bin/dicomweb-bench --series DIR --config DICOMWEB.json --study UID --series-uid UID
//                          --archive-path /series/ID/archive [--runs N] [--in-flight N]
// One series read three ways, each run in turn, N times (median printed): from the local store
// by the workstation's loader; from the trial's Orthanc by DICOMweb (WADO-RS streamed to a
// cache folder, then the same loader); and Orthanc's own zip of the series (/series/{id}/archive).
// First image: the middle slice decoded (local), the first instance decoded from memory as it
// arrives (DICOMweb), the whole zip (archive). Full volume: every voxel in memory, in slice order
// (archive: downloaded, not unzipped).
// viewer/bench/run-dicomweb-bench.sh starts the servers and passes these arguments.
#include "viewercore/Series.h"
#include "viewerweb/DicomWeb.h"

#include <QCoreApplication>

#include <boost/program_options.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Timing {
    double first = 0, full = 0;
};

Timing localLoad(const fs::path& dir) {
    Timing t;
    const auto t0 = Clock::now();
    const vc::Scan scan = vc::scanFolder(dir);
    if (scan.series.size() != 1)
        throw std::runtime_error(dir.string() + ": expected one series, found " + std::to_string(scan.series.size()));
    const vc::Geometry g = vc::analyze(scan.series[0]);
    if (!g.ok) throw std::runtime_error(g.problem);
    vc::LoadCallbacks cb;
    cb.middleReady = [&](int) { t.first = since(t0); };
    const vc::Volume v = vc::load(scan.series[0], g, cb, 2);
    t.full = since(t0);
    if (v.voxels.empty()) throw std::runtime_error("no voxels loaded");
    return t;
}

} // namespace

int main(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string series, config, study, seriesUid, archivePath;
    int runs = 3, inFlight = 4;
    po::options_description opts("dicomweb-bench");
    opts.add_options()("help,h", "this help")("series", po::value(&series), "the series' local folder")(
        "config", po::value(&config), "DICOMweb configuration (JSON, 0600: url, user, password, ca)")(
        "study", po::value(&study), "Study Instance UID")("series-uid", po::value(&seriesUid), "Series Instance UID")(
        "archive-path", po::value(&archivePath), "Orthanc's /series/ID/archive")("runs", po::value(&runs), "runs of each (default 3)")(
        "in-flight", po::value(&inFlight), "WADO-RS requests in flight (default 4)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << opts;
            return 0;
        }
        po::notify(vm);
        if (series.empty() || config.empty() || study.empty() || seriesUid.empty() || archivePath.empty())
            throw po::error("--series, --config, --study, --series-uid and --archive-path are required");
    } catch (const po::error& e) {
        std::fprintf(stderr, "dicomweb-bench: %s\n", e.what());
        return 2;
    }
    QCoreApplication app(argc, argv);
    try {
        vw::Client client(vw::Endpoint::fromConfig(config));
        const fs::path scratch = fs::temp_directory_path() / ("dicomweb-bench-" + std::to_string(::getpid()));
        std::vector<double> localFirst, localFull, webFirst, webFull, webFetch, zipFull;
        std::size_t instances = 0, bytes = 0, zipBytes = 0;
        for (int r = 0; r < runs; ++r) {
            const Timing l = localLoad(series);
            localFirst.push_back(l.first);
            localFull.push_back(l.full);

            // DICOMweb as the workstation reads it: each instance decoded from memory as it
            // arrives (nothing written to the reader's disk), the first one shown at once
            fs::remove_all(scratch);
            fs::create_directories(scratch);
            const auto t0 = Clock::now();
            double first = -1;
            // the network thread's bytes are only copied while they stream (decoding there held
            // the transfer back); the first is decoded at once - the image on screen - and the
            // rest by two threads straight into one volume, in slice order, as the local loader does
            std::vector<QByteArray> parts;
            std::vector<vc::SliceHeader> headers;
            auto header = [](const QByteArray& b) {
                vc::SliceHeader h;
                std::string why;
                const auto* data = reinterpret_cast<const std::uint8_t*>(b.constData());
                if (!vc::parseHeaderFast(data, static_cast<std::size_t>(b.size()), h) &&
                    !vc::parseHeaderDcmtk(data, static_cast<std::size_t>(b.size()), h, why))
                    throw std::runtime_error("an instance the workstation cannot read: " + why);
                return h;
            };
            vw::SeriesRequest req{study, seriesUid, {}, [&](QByteArrayView bytes) {
                                      parts.emplace_back(bytes.toByteArray());
                                      if (first >= 0) return;
                                      const vc::SliceHeader h = header(parts.back());
                                      std::vector<std::int16_t> px(static_cast<std::size_t>(h.rows) * static_cast<std::size_t>(h.columns));
                                      vc::decodeSlice(h, reinterpret_cast<const std::uint8_t*>(parts.back().constData()),
                                                      static_cast<std::size_t>(parts.back().size()), px.data());
                                      first = since(t0);
                                  }};
            const vw::FetchStats s = client.fetchSeries({req}, inFlight);
            webFetch.push_back(since(t0));
            for (const QByteArray& b : parts) headers.push_back(header(b));
            std::vector<std::size_t> order(parts.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::sort(order.begin(), order.end(),
                      [&](std::size_t a, std::size_t b) { return headers[a].position[2] < headers[b].position[2]; });
            const std::size_t plane =
                headers.empty() ? 0 : static_cast<std::size_t>(headers[0].rows) * static_cast<std::size_t>(headers[0].columns);
            vc::VoxelBuffer volume(plane * parts.size());
            std::atomic<std::size_t> next{0};
            auto work = [&] {
                for (std::size_t z; (z = next.fetch_add(1)) < order.size();) {
                    const std::size_t i = order[z];
                    vc::decodeSlice(headers[i], reinterpret_cast<const std::uint8_t*>(parts[i].constData()),
                                    static_cast<std::size_t>(parts[i].size()), volume.data() + z * plane);
                }
            };
            std::thread helper(work);
            work();
            helper.join();
            if (volume.empty()) throw std::runtime_error("no voxels from DICOMweb");
            webFirst.push_back(first);
            webFull.push_back(since(t0));
            if (volume.empty()) throw std::runtime_error("no voxels from DICOMweb");
            instances = s.instances;
            bytes = s.bytes;

            const auto z0 = Clock::now();
            zipBytes = client.download(archivePath, scratch / "series.zip");
            zipFull.push_back(since(z0));
        }
        fs::remove_all(scratch);
        std::printf("series: %zu instances, %.1f MB; %d runs, medians; WADO-RS requests in flight: %d\n", instances, bytes / 1e6, runs,
                    inFlight);
        std::printf("%-34s %12s %12s\n", "", "first image", "full volume");
        std::printf("%-34s %10.3f s %10.3f s\n", "local store (workstation loader)", median(localFirst), median(localFull));
        std::printf("%-34s %10.3f s %10.3f s   (of which WADO-RS %.3f s)\n", "Orthanc by DICOMweb (WADO-RS)", median(webFirst),
                    median(webFull), median(webFetch));
        std::printf("%-34s %10.3f s %10.3f s   (%.1f MB zip, not unzipped)\n", "Orthanc /series/{id}/archive", median(zipFull),
                    median(zipFull), zipBytes / 1e6);
        std::printf("goals: first image < 0.3 s: %s; full volume <= 2x local: %s (%.2fx); faster than the archive: %s\n",
                    median(webFirst) < 0.3 ? "met" : "MISSED", median(webFull) <= 2 * median(localFull) ? "met" : "MISSED",
                    median(webFull) / median(localFull), median(webFull) < median(zipFull) ? "met" : "MISSED");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dicomweb-bench: %s\n", e.what());
        return 1;
    }
}
