#pragma once
// Shared by the anonymize CLI and the receive node: options that set up an Anonymizer.
#include "anonymizer/Anonymizer.h"

#include <iostream>
#include <string>

namespace anon::app {

struct CommonArgs {
    std::string out, quarantine, enrolment, charter, key, audit, profile;
    bool noFsync = false;
};

/// Consumes a common option at argv[i] (advancing i); false if it is not one.
inline bool takeCommon(CommonArgs& a, int argc, char** argv, int& i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& into) {
        if (i + 1 >= argc) throw Error(arg + " needs a value");
        into = argv[++i];
        return true;
    };
    if (arg == "--out") return value(a.out);
    if (arg == "--quarantine") return value(a.quarantine);
    if (arg == "--enrolment") return value(a.enrolment);
    if (arg == "--charter") return value(a.charter);
    if (arg == "--key") return value(a.key);
    if (arg == "--audit") return value(a.audit);
    if (arg == "--profile") return value(a.profile);
    if (arg == "--no-fsync") return a.noFsync = true;
    return false;
}

inline std::unique_ptr<KeyStore> makeConfig(const CommonArgs& a, Config& cfg) {
    if (a.out.empty() || a.quarantine.empty() || a.enrolment.empty())
        throw Error("--out, --quarantine and --enrolment are required");
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

inline const char* commonUsage() {
    return "  --out STORE          de-identified store (created)\n"
           "  --quarantine DIR     quarantined originals with a .reason.json each\n"
           "  --enrolment CSV      original_patient_id,pseudonym[,randomization_date] (header required)\n"
           "  --charter FILE       trial charter (default assets/charters/reluth.json)\n"
           "  --key FILE           re-identification key, outside the store (default STORE.key.json)\n"
           "  --audit FILE         append-only audit log, JSON lines (default STORE.audit.jsonl)\n"
           "  --profile FILE       PS3.15 E.1-1 table (default assets/deid/ps3.15-E.1-1.tsv)\n"
           "  --no-fsync           do not fsync each file (benchmarks of the CPU side only)\n";
}

} // namespace anon::app
