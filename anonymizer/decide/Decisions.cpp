#include "anonymizer/Decisions.h"

#include "readerqueue/Queue.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace anon {

namespace fs = std::filesystem;

std::vector<QuarantinedFile> listQuarantine(const fs::path& quarantine) {
    std::vector<QuarantinedFile> out;
    std::error_code ec;
    if (!fs::is_directory(quarantine, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(quarantine, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const std::string name = it->path().filename().string();
        if (name.rfind(".tmp-", 0) == 0 || (name.size() > 12 && name.compare(name.size() - 12, 12, ".reason.json") == 0)) continue;
        QuarantinedFile f;
        f.file = it->path();
        f.relative = fs::relative(it->path(), quarantine, ec).generic_string();
        f.bytes = it->file_size(ec);
        const fs::path reasonFile = it->path().string() + ".reason.json";
        try {
            std::ifstream in(reasonFile);
            if (!in) throw std::runtime_error("no reason file");
            const nlohmann::json j = nlohmann::json::parse(in);
            f.inputHash = j.value("input_sha256", "");
            for (const auto& r : j.at("reasons")) f.reasons.push_back({r.value("category", "?"), r.value("detail", "")});
        } catch (const std::exception& e) {
            f.reasons.push_back({"unknown", std::string("the reason file cannot be read: ") + e.what()});
        }
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const QuarantinedFile& a, const QuarantinedFile& b) { return a.relative < b.relative; });
    return out;
}

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
        fs::remove(f.file.string() + ".reason.json", ec);
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
        fs::remove(f.file.string() + ".reason.json", ec);
        return std::string("discarded");
    });
}

} // namespace anon
