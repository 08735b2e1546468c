#pragma once
// Shared by the anonymize CLI and the receive node: options that set up an Anonymizer.
#include "anonymizer/Anonymizer.h"

#include <boost/program_options.hpp>

#include <iostream>
#include <string>

namespace anon::app {

struct CommonArgs {
    std::string out, quarantine, enrolment, charter, key, audit, profile;
    bool noFsync = false;
};

/// The options every anonymizer tool shares, described for Boost.Program_options.
inline boost::program_options::options_description commonOptions(CommonArgs& a) {
    namespace po = boost::program_options;
    po::options_description d("store, quarantine and trial");
    d.add_options()("out", po::value(&a.out)->value_name("STORE"), "de-identified store (created)")(
        "quarantine", po::value(&a.quarantine)->value_name("DIR"), "quarantined originals with a .reason.json each")(
        "enrolment", po::value(&a.enrolment)->value_name("CSV"), "original_patient_id,pseudonym[,randomization_date] (header required)")(
        "charter", po::value(&a.charter)->value_name("FILE"), "trial charter (default assets/charters/reluth.json)")(
        "key", po::value(&a.key)->value_name("FILE"), "re-identification key, outside the store (default STORE.key.json)")(
        "audit", po::value(&a.audit)->value_name("FILE"), "append-only audit log, JSON lines (default STORE.audit.jsonl)")(
        "profile", po::value(&a.profile)->value_name("FILE"), "PS3.15 E.1-1 table (default assets/deid/ps3.15-E.1-1.tsv)")(
        "no-fsync", po::bool_switch(&a.noFsync), "do not fsync each file (benchmarks of the CPU side only)");
    return d;
}

/// Parses argv with Boost.Program_options: unknown options, missing values and values of the
/// wrong type (e.g. --jobs abc) are refused with po::error naming the option; true when
/// --help was asked for (and printed).
inline bool parse(int argc, char** argv, const boost::program_options::options_description& all, const char* usage) {
    namespace po = boost::program_options;
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
    if (vm.count("help")) {
        std::cout << usage << "\n" << all;
        return true;
    }
    po::notify(vm);
    return false;
}

inline std::unique_ptr<KeyStore> makeConfig(const CommonArgs& a, Config& cfg) {
    if (a.out.empty() || a.quarantine.empty() || a.enrolment.empty()) throw Error("--out, --quarantine and --enrolment are required");
    cfg.charter = charter::loadCharter(a.charter.empty() ? findAsset("charters/reluth.json") : std::filesystem::path(a.charter));
    cfg.profile = Profile::load(a.profile.empty() ? findAsset("deid/ps3.15-E.1-1.tsv") : std::filesystem::path(a.profile));
    cfg.text = TextPolicy::load(findAsset("deid/text-allow-list.tsv"), findAsset("deid/descriptor-vocabulary.txt"));
    cfg.enrolment = Enrolment::load(a.enrolment);
    cfg.store = a.out;
    cfg.quarantine = a.quarantine;
    cfg.auditLog = a.audit.empty() ? defaultAuditPath(a.out) : std::filesystem::path(a.audit);
    cfg.durable = !a.noFsync;
    return KeyStore::openOrCreate(a.key.empty() ? defaultKeyPath(a.out) : std::filesystem::path(a.key));
}

} // namespace anon::app
