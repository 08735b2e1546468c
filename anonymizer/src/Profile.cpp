#include "anonymizer/Profile.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>

namespace anon {

const char* actionName(Action a) {
    switch (a) {
    case Action::Keep: return "keep";
    case Action::Remove: return "remove";
    case Action::Zero: return "empty";
    case Action::Dummy: return "dummy";
    case Action::Uid: return "uid";
    case Action::Recurse: return "recurse";
    case Action::Clean: return "clean";
    case Action::Shift: return "shift";
    }
    return "?";
}

std::vector<std::string> splitTabs(const std::string& line) {
    std::vector<std::string> f;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t tab = line.find('\t', pos);
        f.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
        if (tab == std::string::npos) break;
        pos = tab + 1;
    }
    return f;
}

namespace {

bool parseHex4(const std::string& s, std::uint16_t& value, std::uint16_t& mask) {
    if (s.size() != 4) return false;
    value = 0;
    mask = 0;
    for (char c : s) {
        value = static_cast<std::uint16_t>(value << 4);
        mask = static_cast<std::uint16_t>(mask << 4);
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c == 'X' || c == 'x')
            continue; // wildcard nibble
        else
            return false;
        value = static_cast<std::uint16_t>(value | d);
        mask = static_cast<std::uint16_t>(mask | 0xF);
    }
    return true;
}

const char* kValidBasic[] = {"X", "Z", "D", "U", "K", "C", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"};
const char* kValidOptions[] = {"pat", "dev", "inst", "uids", "full", "modif", "desc", "struct", "graph", "safepriv"};

} // namespace

Profile Profile::load(const std::filesystem::path& tsv) {
    std::ifstream in(tsv, std::ios::binary);
    if (!in) throw ProfileError(tsv.string() + ": cannot open the de-identification profile table");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), tsv.string());
}

Profile Profile::parse(const std::string& text, const std::string& file) {
    Profile p;
    std::istringstream in(text);
    std::string line;
    int lineNo = 0;
    auto fail = [&](const std::string& msg) { throw ProfileError(file + ":" + std::to_string(lineNo) + ": " + msg); };
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line[0] == '#') {
            auto meta = [&](const char* key, std::string& out) {
                const std::string k = std::string("# ") + key + ":";
                if (line.rfind(k, 0) == 0) {
                    out = line.substr(k.size());
                    out.erase(0, out.find_first_not_of(' '));
                }
            };
            meta("table-version", p.version_);
            if (p.edition_.empty()) meta("edition", p.edition_);
            meta("rows", p.declaredRows_);
            continue;
        }
        const std::vector<std::string> f = splitTabs(line);
        if (f.size() != 4) fail("expected 4 tab-separated columns (tag, basic, options, name), found " + std::to_string(f.size()));
        ProfileRow r;
        const std::string& tag = f[0];
        if (tag == "(GGGG,EEEE)") {
            r.privateRows = true;
            r.groupMask = r.elementMask = 0;
        } else {
            if (tag.size() != 11 || tag[0] != '(' || tag[5] != ',' || tag[10] != ')') fail("bad tag '" + tag + "'");
            if (!parseHex4(tag.substr(1, 4), r.group, r.groupMask) || !parseHex4(tag.substr(6, 4), r.element, r.elementMask))
                fail("bad tag '" + tag + "'");
        }
        r.basic = f[1];
        if (std::find(std::begin(kValidBasic), std::end(kValidBasic), r.basic) == std::end(kValidBasic))
            fail("unknown basic profile action '" + r.basic + "'");
        if (f[2] != "-") {
            std::size_t b = 0;
            while (b <= f[2].size()) {
                const std::size_t comma = f[2].find(',', b);
                const std::string kv = f[2].substr(b, comma == std::string::npos ? std::string::npos : comma - b);
                const std::size_t eq = kv.find('=');
                if (eq == std::string::npos || eq + 2 != kv.size()) fail("bad option '" + kv + "'");
                const std::string key = kv.substr(0, eq);
                const char code = kv[eq + 1];
                if (std::find(std::begin(kValidOptions), std::end(kValidOptions), key) == std::end(kValidOptions))
                    fail("unknown option column '" + key + "'");
                if (code != 'K' && code != 'C' && code != 'X') fail("bad option action '" + kv + "'");
                r.options.emplace_back(key, code);
                if (comma == std::string::npos) break;
                b = comma + 1;
            }
        }
        r.name = f[3];
        if (r.name.empty()) fail("missing attribute name");
        p.rows_.push_back(std::move(r));
    }
    if (p.rows_.empty()) throw ProfileError(file + ": no rows");
    if (p.version_.empty()) throw ProfileError(file + ": missing '# table-version:' line");
    if (!p.declaredRows_.empty() && p.declaredRows_ != std::to_string(p.rows_.size()))
        throw ProfileError(file + ": the header says " + p.declaredRows_ + " rows, the table has " + std::to_string(p.rows_.size()));
    // index
    std::vector<std::pair<std::uint32_t, std::size_t>> exact;
    for (std::size_t i = 0; i < p.rows_.size(); ++i) {
        const ProfileRow& r = p.rows_[i];
        if (r.groupMask == 0xFFFF && r.elementMask == 0xFFFF && !r.privateRows)
            exact.emplace_back((std::uint32_t{r.group} << 16) | r.element, i);
        else
            p.wildcard_.push_back(i);
    }
    std::sort(exact.begin(), exact.end());
    for (std::size_t i = 1; i < exact.size(); ++i) {
        if (exact[i].first == exact[i - 1].first) throw ProfileError(file + ": tag listed twice: " + p.rows_[exact[i].second].name);
    }
    for (auto& [k, i] : exact) {
        p.exactKeys_.push_back(k);
        p.exactIndex_.push_back(i);
    }
    return p;
}

const ProfileRow* Profile::find(std::uint16_t group, std::uint16_t element) const {
    const std::uint32_t key = (std::uint32_t{group} << 16) | element;
    auto it = std::lower_bound(exactKeys_.begin(), exactKeys_.end(), key);
    if (it != exactKeys_.end() && *it == key) return &rows_[exactIndex_[static_cast<std::size_t>(it - exactKeys_.begin())]];
    for (std::size_t i : wildcard_) {
        const ProfileRow& r = rows_[i];
        if (r.privateRows) {
            if (group & 1) return &r;
            continue;
        }
        if ((group & r.groupMask) == r.group && (element & r.elementMask) == r.element) return &r;
    }
    return nullptr;
}

Action Profile::action(const ProfileRow& row, const ProfileOptions& o, bool isSequence) const {
    for (const auto& [key, code] : row.options) {
        const bool selected = (key == "full" && o.fullDates) || (key == "modif" && o.modifiedDates) ||
                              (key == "desc" && o.cleanDescriptors) || (key == "struct" && o.cleanStructuredContent) ||
                              (key == "pat" && o.retainPatientCharacteristics);
        if (!selected) continue;
        if (code == 'K') return Action::Keep;
        if (code == 'X') return Action::Remove;
        if (key == "modif") return Action::Shift;
        return isSequence ? Action::Recurse : Action::Clean;
    }
    const std::string& b = row.basic;
    if (b == "X" || b == "X/D") return Action::Remove; // X/D: X (Type 3 where it occurs in our IODs)
    if (b == "Z" || b == "X/Z" || b == "Z/D" || b == "X/Z/D") return isSequence ? Action::Zero : Action::Zero;
    if (b == "D") return isSequence ? Action::Recurse : Action::Dummy;
    if (b == "U") return Action::Uid;
    if (b == "X/Z/U*") return isSequence ? Action::Recurse : Action::Uid;
    if (b == "K") return Action::Keep;
    return Action::Remove;
}

} // namespace anon
