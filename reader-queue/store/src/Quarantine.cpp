#include "store/Quarantine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;

namespace store {

namespace {
bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
} // namespace

fs::path reasonFileOf(const fs::path& quarantined) { return quarantined.string() + ".reason.json"; }

bool writeRecord(const fs::path& quarantined, const QuarantineRecord& r) {
    nlohmann::json j;
    j["input"] = r.input;
    j["input_sha256"] = r.inputHash;
    j["time"] = r.time;
    nlohmann::json reasons = nlohmann::json::array();
    for (const auto& q : r.reasons) reasons.push_back({{"category", q.category}, {"detail", q.detail}});
    j["reasons"] = reasons;
    const fs::path rf = reasonFileOf(quarantined);
    const fs::path tmp = rf.parent_path() / (".tmp-" + rf.filename().string());
    // text from the file may not be UTF-8: replaced, never a throw
    const std::string s = j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out.write(s.data(), static_cast<std::streamsize>(s.size())) || !out.flush()) return false;
    }
    std::error_code ec;
    fs::rename(tmp, rf, ec);
    return !ec;
}

std::vector<QuarantineRecord> listQuarantine(const fs::path& quarantine) {
    std::vector<QuarantineRecord> out;
    std::error_code ec;
    if (!fs::is_directory(quarantine, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(quarantine, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const std::string name = it->path().filename().string();
        if (name.rfind(".tmp-", 0) == 0 || endsWith(name, ".reason.json")) continue;
        QuarantineRecord f;
        f.file = it->path();
        f.relative = fs::relative(it->path(), quarantine, ec).generic_string();
        f.bytes = it->file_size(ec);
        try {
            std::ifstream in(reasonFileOf(it->path()));
            if (!in) throw std::runtime_error("no reason file");
            const nlohmann::json j = nlohmann::json::parse(in);
            f.input = j.value("input", "");
            f.inputHash = j.value("input_sha256", "");
            f.time = j.value("time", "");
            for (const auto& r : j.at("reasons")) f.reasons.push_back({r.value("category", "?"), r.value("detail", "")});
            if (f.reasons.empty()) f.reasons.push_back({"unknown", "the reason file names no reason"});
        } catch (const std::exception& e) {
            f.reasons.push_back({"unknown", std::string("the reason file cannot be read: ") + e.what()});
        }
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const QuarantineRecord& a, const QuarantineRecord& b) { return a.relative < b.relative; });
    return out;
}

std::map<std::string, int> countsByCategory(const fs::path& quarantine) {
    std::map<std::string, int> out;
    for (const QuarantineRecord& r : listQuarantine(quarantine)) ++out[r.reasons.front().category];
    return out;
}

void removeRecord(const fs::path& quarantined) {
    std::error_code ec;
    fs::remove(reasonFileOf(quarantined), ec);
}

} // namespace store
