// build/bin/dicomweb-bench --series DIR --config DICOMWEB.json --study UID --series-uid UID
//                          --archive-path /series/ID/archive [--runs N] [--no-cache]
// One series read three ways, each run in turn, N times (median printed): from the local store
// by the workstation's loader; from the trial's Orthanc by DICOMweb exactly as the workstation
// reads it (vw::streamSeries: WADO-RS, decoded while it streams, the session cache written);
// and Orthanc's own zip of the series (/series/{id}/archive).
// First image: the middle slice decoded (local), the first instance decoded as it arrives
// (DICOMweb), the whole zip (archive). Full volume: every voxel in memory, in slice order
// (archive: downloaded, not unzipped).
// viewer/bench/run-dicomweb-bench.sh starts the servers and passes these arguments.
#include "viewercore/Series.h"
#include "viewerweb/DicomWeb.h"
#include "viewerweb/StreamLoad.h"

#include <QCoreApplication>

#include <boost/program_options.hpp>

#include <algorithm>
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
    int runs = 3;
    bool cache = true, archive = true;
    po::options_description opts("dicomweb-bench");
    opts.add_options()("help,h", "this help")("series", po::value(&series), "the series' local folder")(
        "config", po::value(&config), "DICOMweb configuration (JSON, 0600: url, user, password, ca)")(
        "study", po::value(&study), "Study Instance UID")("series-uid", po::value(&seriesUid), "Series Instance UID")(
        "archive-path", po::value(&archivePath), "Orthanc's /series/ID/archive")("runs", po::value(&runs), "runs of each (default 3)")(
        "no-cache", po::bool_switch(), "do not write the session cache (memory only)")(
        "no-archive", po::bool_switch(), "skip the archive download (27 s a run; for profiling the rest)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << opts;
            return 0;
        }
        po::notify(vm);
        cache = !vm["no-cache"].as<bool>();
        archive = !vm["no-archive"].as<bool>();
        if (series.empty() || config.empty() || study.empty() || seriesUid.empty() || (archivePath.empty() && !vm["no-archive"].as<bool>()))
            throw po::error("--series, --config, --study, --series-uid and --archive-path are required");
    } catch (const po::error& e) {
        std::fprintf(stderr, "dicomweb-bench: %s\n", e.what());
        return 2;
    }
    QCoreApplication app(argc, argv);
    try {
        vw::Client client(vw::Endpoint::fromConfig(config));
        const fs::path scratch = fs::temp_directory_path() / ("dicomweb-bench-" + std::to_string(::getpid()));
        std::vector<double> transferOnly, localFirst, localFull, webFirst, webFull, webFetch, zipFull;
        std::size_t instances = 0, bytes = 0, zipBytes = 0;
        for (int r = 0; r < runs; ++r) {
            const Timing l = localLoad(series);
            localFirst.push_back(l.first);
            localFull.push_back(l.full);

            // DICOMweb as the workstation reads it (vw::streamSeries): each instance decoded as it
            // arrives, the first one shown at once, then the slices put in order into one volume;
            // the session cache written as the workstation writes it
            fs::remove_all(scratch);
            fs::create_directories(scratch);
            // the instance count from the series search, as the workstation asks for it
            std::size_t expected = 0;
            for (const auto& q : client.qido("studies/" + study + "/series", {{"SeriesInstanceUID", seriesUid}, {"includefield", "00201209"}}))
                if (q.contains("00201209") && q["00201209"].contains("Value") && !q["00201209"]["Value"].empty())
                    expected = q["00201209"]["Value"][0].is_number() ? q["00201209"]["Value"][0].get<std::size_t>()
                                                                      : std::stoul(q["00201209"]["Value"][0].get<std::string>());
            // the first image handed to the screen as the workstation's fetch dialog takes it
            std::size_t shownRows = 0;
            vw::StreamCallbacks cb;
            cb.firstImage = [&](std::size_t, const vc::SliceHeader& h, const std::int16_t*) { shownRows = static_cast<std::size_t>(h.rows); };
            const vw::StreamedSeries s = vw::streamSeries(client, study, seriesUid, expected, cache ? scratch / "cache" : fs::path(), cb);
            if (shownRows == 0) throw std::runtime_error("no first image was handed out");
            if (!s.volume || s.volume->voxels.empty()) throw std::runtime_error("no volume from DICOMweb: " + s.geometry.problem);
            webFirst.push_back(s.firstImageSeconds);
            webFull.push_back(s.seconds);
            webFetch.push_back(s.stats.seconds);
            instances = s.stats.instances;
            bytes = s.stats.bytes;

            // the transfer alone through the same client (each part split out, then dropped):
            // what the network and the servers cost before any decoding
            const auto x0 = Clock::now();
            vw::SeriesRequest drop{study, seriesUid, {}, [](QByteArrayView) {}};
            client.fetchSeries({drop}, 1);
            transferOnly.push_back(since(x0));

            if (archive) {
                const auto z0 = Clock::now();
                zipBytes = client.download(archivePath, scratch / "series.zip");
                zipFull.push_back(since(z0));
            }
        }
        fs::remove_all(scratch);
        std::printf("series: %zu instances, %.1f MB; %d runs, medians; session cache on disk: %s\n", instances, bytes / 1e6, runs,
                    cache ? "yes" : "no");
        std::printf("%-34s %12s %12s\n", "", "first image", "full volume");
        std::printf("%-34s %10.3f s %10.3f s\n", "local store (workstation loader)", median(localFirst), median(localFull));
        std::printf("%-34s %10.3f s %10.3f s   (of which WADO-RS %.3f s)\n", "Orthanc by DICOMweb (WADO-RS)", median(webFirst),
                    median(webFull), median(webFetch));
        std::printf("%-34s %12s %10.3f s\n", "  WADO-RS transfer alone", "", median(transferOnly));
        if (archive)
            std::printf("%-34s %10.3f s %10.3f s   (%.1f MB zip, not unzipped)\n", "Orthanc /series/{id}/archive", median(zipFull),
                        median(zipFull), zipBytes / 1e6);
        std::printf("goals: first image < 0.3 s: %s; full volume <= 2x local: %s (%.2fx); faster than the archive: %s\n",
                    median(webFirst) < 0.3 ? "met" : "MISSED", median(webFull) <= 2 * median(localFull) ? "met" : "MISSED",
                    median(webFull) / median(localFull),
                    !archive ? "not measured" : median(webFull) < median(zipFull) ? "met" : "MISSED");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dicomweb-bench: %s\n", e.what());
        return 1;
    }
}
