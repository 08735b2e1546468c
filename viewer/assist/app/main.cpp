// lesion-assist: the workstation's reading assistance from the command line.
//   lesion-assist measure   --series DIR --at X,Y,Z [--node]
//   lesion-assist propagate --prior DIR --current DIR --at X,Y,Z
// Points are patient coordinates (LPS, mm). Prints one JSON object; exit 0 when it ran (a
// measurement that is not confident is still a result: "confident": false and "why"), 1 for
// bad input (named), 2 for a bad command line.
#include "assist/Assist.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <sstream>

namespace {

namespace po = boost::program_options;
using Json = nlohmann::ordered_json;

struct Loaded {
    vc::Series series;
    vc::Volume volume;
};

Loaded loadSeries(const std::string& dir, const std::string& uid) {
    if (!std::filesystem::is_directory(dir)) throw std::runtime_error(dir + ": not a folder");
    vc::Scan scan = vc::scanFolder(dir);
    std::vector<vc::Series*> candidates;
    for (auto& s : scan.series) {
        if (uid.empty() || s.uid == uid) candidates.push_back(&s);
    }
    if (candidates.empty()) {
        std::string why = dir + ": no DICOM image series" + (uid.empty() ? "" : " with SeriesInstanceUID " + uid);
        if (!scan.skipped.empty())
            why += " (" + std::to_string(scan.skipped.size()) + " files skipped, first: " + scan.skipped[0].first + ": " +
                   scan.skipped[0].second + ")";
        throw std::runtime_error(why);
    }
    if (candidates.size() > 1) {
        std::string why = dir + ": " + std::to_string(candidates.size()) + " series; choose one with --series-uid:";
        for (auto* s : candidates) why += " " + s->uid + " (" + s->modality + ", " + std::to_string(s->slices.size()) + " files)";
        throw std::runtime_error(why);
    }
    Loaded out;
    out.series = std::move(*candidates[0]);
    const vc::Geometry g = vc::analyze(out.series);
    if (!g.ok) throw std::runtime_error(dir + ": not a volume: " + g.problem);
    out.volume = vc::load(out.series, g);
    return out;
}

assist::P3 parsePoint(const std::string& text) {
    assist::P3 p{};
    std::istringstream in(text);
    char c1 = 0, c2 = 0;
    const bool read = static_cast<bool>(in >> p[0] >> c1 >> p[1] >> c2 >> p[2]);
    if (read) in >> std::ws;
    if (!read || c1 != ',' || c2 != ',' || !in.eof()) {
        throw po::validation_error(po::validation_error::invalid_option_value, "at", text);
    }
    for (double v : p) {
        if (!std::isfinite(v)) throw po::validation_error(po::validation_error::invalid_option_value, "at", text);
    }
    return p;
}

Json point(const assist::P3& p) {
    return Json::array({std::round(p[0] * 1000) / 1000, std::round(p[1] * 1000) / 1000, std::round(p[2] * 1000) / 1000});
}

std::string sopOf(const Loaded& l, int slice) {
    if (slice < 0 || slice >= static_cast<int>(l.volume.geometry.order.size())) return "";
    return l.series.slices[l.volume.geometry.order[static_cast<std::size_t>(slice)]].sopUid;
}

double ms(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void usage(std::ostream& o, const po::options_description& opts) {
    o << "usage: lesion-assist measure --series DIR --at X,Y,Z [--node]\n"
         "       lesion-assist propagate --prior DIR --current DIR --at X,Y,Z\n"
         "points are patient coordinates (LPS, mm)\n"
      << opts;
}

} // namespace

int main(int argc, char** argv) {
    po::options_description opts("options");
    std::string command, seriesDir, priorDir, currentDir, at, seriesUid;
    bool node = false;
    opts.add_options()("help,h", "this help")("series", po::value(&seriesDir)->value_name("DIR"), "measure: the series folder")(
        "series-uid", po::value(&seriesUid)->value_name("UID"), "the series to use when a folder holds several")(
        "prior", po::value(&priorDir)->value_name("DIR"), "propagate: the prior timepoint's series folder")(
        "current", po::value(&currentDir)->value_name("DIR"), "propagate: the current timepoint's series folder")(
        "at", po::value(&at)->value_name("X,Y,Z"), "a point inside the lesion (patient mm)")(
        "node", po::bool_switch(&node), "measure: a lymph node (the slice with the longest short axis)");
    po::options_description hidden;
    hidden.add_options()("command", po::value(&command));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("command", 1);
    assist::P3 p{};
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
        if (vm.count("help")) {
            usage(std::cout, opts);
            return 0;
        }
        if (command != "measure" && command != "propagate") throw po::error("the command must be measure or propagate");
        if (at.empty()) throw po::required_option("at");
        p = parsePoint(at);
        if (command == "measure" && seriesDir.empty()) throw po::required_option("series");
        if (command == "propagate" && (priorDir.empty() || currentDir.empty()))
            throw po::required_option(priorDir.empty() ? "prior" : "current");
    } catch (const po::error& e) {
        std::cerr << "lesion-assist: " << e.what() << "\n";
        usage(std::cerr, opts);
        return 2;
    }
    try {
        Json out;
        if (command == "measure") {
            const auto t0 = std::chrono::steady_clock::now();
            const Loaded l = loadSeries(seriesDir, seriesUid);
            const double loadMs = ms(t0);
            assist::MeasureOptions mo;
            mo.node = node;
            const assist::Proposal r = assist::measureAt(l.volume, p, mo);
            out["confident"] = r.confident;
            if (!r.confident) out["why"] = r.why;
            if (r.confident) {
                out["long_mm"] = std::round(r.longMm * 100) / 100;
                out["short_mm"] = std::round(r.shortMm * 100) / 100;
                out["long_axis"] = Json::array({point(r.longAxis[0]), point(r.longAxis[1])});
                out["short_axis"] = Json::array({point(r.shortAxis[0]), point(r.shortAxis[1])});
                out["sop_instance_uid"] = sopOf(l, r.slice);
            }
            out["contrast_to_noise"] = std::round(r.cnr * 10) / 10;
            out["slices_searched"] = r.slicesSearched;
            out["load_ms"] = std::round(loadMs);
            out["measure_ms"] = std::round(r.millis * 10) / 10;
        } else {
            auto t0 = std::chrono::steady_clock::now();
            const Loaded prior = loadSeries(priorDir, "");
            const Loaded current = loadSeries(currentDir, seriesUid);
            const double loadMs = ms(t0);
            const assist::Registration reg = assist::Registration::global(prior.volume, current.volume);
            t0 = std::chrono::steady_clock::now();
            const assist::P3 q = reg.mapLocal(p);
            const double localMs = ms(t0);
            const int slice = assist::nearestSlice(current.volume.geometry, q);
            if (slice < 0 || slice >= current.volume.geometry.nz) {
                out["inside"] = false;
                out["why"] = "the proposed point lies outside the current series (the lesion was not scanned)";
            } else {
                out["inside"] = true;
            }
            out["point"] = point(q);
            out["global_point"] = point(reg.mapGlobal(p));
            out["sop_instance_uid"] = sopOf(current, slice);
            out["load_ms"] = std::round(loadMs);
            out["global_ms"] = std::round(reg.globalMillis());
            out["local_ms"] = std::round(localMs);
            out["stages"] = reg.summary();
        }
        std::cout << out.dump(2) << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "lesion-assist: " << e.what() << "\n";
        return 1;
    }
}
