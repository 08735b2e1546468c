#include "anonymizer/Decisions.h"

#include "readerqueue/Queue.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace anon {

namespace fs = std::filesystem;

std::vector<QuarantinedFile> listQuarantine(const fs::path& quarantine) { return store::listQuarantine(quarantine); }

std::unique_ptr<KeyStore> configureRelease(Config& cfg, const charter::Charter& charter, const fs::path& store, const fs::path& quarantine,
                                           const fs::path& enrolment) {
    cfg.charter = charter;
    cfg.profile = Profile::load(findAsset("deid/ps3.15-E.1-1.tsv"));
    cfg.text = TextPolicy::load(findAsset("deid/text-allow-list.tsv"), findAsset("deid/descriptor-vocabulary.txt"));
    cfg.enrolment = Enrolment::load(enrolment);
    cfg.store = store;
    cfg.quarantine = quarantine;
    cfg.auditLog = defaultAuditPath(store);
    return KeyStore::openOrCreate(defaultKeyPath(store));
}

std::set<std::string> releasableOverrides(const QuarantinedFile& f, std::string* whyNot) {
    static const std::set<std::string> decidable{"arm-series", "burned-in", "secondary-capture", "modality"};
    std::set<std::string> out;
    for (const QuarantineReason& r : f.reasons) {
        if (decidable.count(r.category)) {
            out.insert(r.category);
        } else {
            if (whyNot) *whyNot = "'" + r.category + "' cannot be released: " + r.detail;
            return {};
        }
    }
    if (out.empty() && whyNot) *whyNot = "the file has no reason a person can decide about";
    return out;
}

std::string release(rq::Queue& queue, const rq::Session& dm, Anonymizer& anonymizer, const QuarantinedFile& f, const std::string& reason) {
    std::string where;
    queue.decideQuarantined(dm, f.relative, f.inputHash, true, reason, [&] {
        std::string whyNot;
        const std::set<std::string> overrides = releasableOverrides(f, &whyNot);
        if (overrides.empty()) throw rq::Refused("NOT_RELEASABLE", whyNot);
        // the original runs through the whole pipeline again from a copy outside the quarantine
        // (the pipeline writes a file it quarantines again to the same place)
        const fs::path copy = f.file.parent_path() / (".tmp-release-" + f.file.filename().string());
        fs::copy_file(f.file, copy, fs::copy_options::overwrite_existing);
        SeriesVerdicts verdicts;
        FileResult r = anonymizer.process(copy, f.relative, verdicts, overrides);
        std::error_code ec;
        fs::remove(copy, ec);
        r.input = f.file;
        anonymizer.audit(r);
        if (r.outcome != Outcome::Stored) {
            std::string why;
            for (const auto& q : r.reasons) why += (why.empty() ? "" : "; ") + q.text();
            throw rq::Refused("STILL_QUARANTINED", "the file cannot be made safe: " + why);
        }
        store::removeRecord(f.file);
        fs::remove(f.file, ec);
        where = r.output.string();
        return "released to " + fs::path(where).filename().string();
    });
    return where;
}

void discard(rq::Queue& queue, const rq::Session& dm, const QuarantinedFile& f, const std::string& reason) {
    queue.decideQuarantined(dm, f.relative, f.inputHash, false, reason, [&] {
        if (!fs::exists(f.file)) throw rq::Refused("NO_FILE", f.relative + " is no longer in the quarantine");
        fs::remove(f.file);
        std::error_code ec;
        store::removeRecord(f.file);
        return std::string("discarded");
    });
}

} // namespace anon
