#include "anonymizer/TextPolicy.h"

#include "anonymizer/Profile.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace anon {

namespace {

std::string readAll(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw TextPolicyError(p.string() + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool parseTag(const std::string& t, std::uint32_t& key) {
    if (t.size() != 11 || t[0] != '(' || t[5] != ',' || t[10] != ')') return false;
    std::uint32_t v = 0;
    for (std::size_t i : {1, 2, 3, 4, 6, 7, 8, 9}) {
        const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(t[i])));
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return false;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    key = v;
    return true;
}

bool allOf(std::string_view s, int (*pred)(int)) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

const char* const kShapes[] = {"@digits", "@age", "@orientation", "@kernel", "@codevalue"};

bool shapeMatches(const std::string& shape, std::string_view v) {
    if (shape == "@digits") return v.size() <= 16 && allOf(v, ::isdigit);
    if (shape == "@age")
        return v.size() == 4 && allOf(v.substr(0, 3), ::isdigit) && std::string_view("DWMY").find(v[3]) != std::string_view::npos;
    if (shape == "@orientation")
        return v.size() <= 3 && !v.empty() &&
               std::all_of(v.begin(), v.end(), [](char c) { return std::string_view("APRLHF").find(c) != std::string_view::npos; });
    if (shape == "@kernel") {
        // a reconstruction kernel's name: up to 3 letters, up to 3 digits, an optional letter
        // (B30f, Br36, FC13, YA) or one of the generic names
        static const char* const generic[] = {"STANDARD", "SOFT",  "LUNG", "BONE", "DETAIL",  "SHARP",
                                              "SMOOTH",   "CHEST", "STND", "BODY", "BONEPLUS"};
        std::string up(v);
        for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (std::find(std::begin(generic), std::end(generic), up) != std::end(generic)) return true;
        std::size_t i = 0, letters = 0, digits = 0;
        while (i < up.size() && std::isalpha(static_cast<unsigned char>(up[i]))) ++i, ++letters;
        while (i < up.size() && std::isdigit(static_cast<unsigned char>(up[i]))) ++i, ++digits;
        if (i < up.size() && std::isalpha(static_cast<unsigned char>(up[i]))) ++i;
        return i == up.size() && letters >= 1 && letters <= 3 && digits <= 3 && up.size() <= 7;
    }
    if (shape == "@codevalue") {
        // SNOMED CT / DICOM numeric codes, or an SRT-style code (T-62000)
        if (v.size() <= 18 && allOf(v, ::isdigit)) return true;
        return v.size() >= 6 && v.size() <= 8 && std::isupper(static_cast<unsigned char>(v[0])) && v[1] == '-' &&
               std::all_of(v.begin() + 2, v.end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F'); });
    }
    return false;
}

} // namespace

TextPolicy TextPolicy::load(const std::filesystem::path& allowList, const std::filesystem::path& vocabulary) {
    return parse(readAll(allowList), allowList.string(), readAll(vocabulary), vocabulary.string());
}

TextPolicy TextPolicy::parse(const std::string& allowText, const std::string& allowName, const std::string& vocabularyText,
                             const std::string& vocabularyName) {
    TextPolicy p;
    {
        std::istringstream in(allowText);
        std::string line;
        int n = 0;
        auto fail = [&](const std::string& m) { throw TextPolicyError(allowName + ":" + std::to_string(n) + ": " + m); };
        while (std::getline(in, line)) {
            ++n;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty()) continue;
            if (line[0] == '#') {
                const std::string k = "# table-version:";
                if (line.rfind(k, 0) == 0) {
                    p.version_ = line.substr(k.size());
                    p.version_.erase(0, p.version_.find_first_not_of(' '));
                }
                continue;
            }
            const std::vector<std::string> f = splitTabs(line);
            if (f.size() != 4) fail("expected 4 tab-separated columns (tag, disposition, values, name), found " + std::to_string(f.size()));
            std::uint32_t key = 0;
            if (!parseTag(f[0], key)) fail("bad tag '" + f[0] + "'");
            if ((key >> 16) & 1) fail(f[0] + " is private: the allow-list names public attributes only");
            AllowRule r;
            r.name = f[3];
            if (f[1] == "code")
                r.kind = AllowRule::Kind::Code;
            else if (f[1] == "vocab")
                r.kind = AllowRule::Kind::Vocabulary;
            else if (f[1] == "empty")
                r.kind = AllowRule::Kind::Empty;
            else if (f[1] == "written")
                r.kind = AllowRule::Kind::Written;
            else if (f[1] == "binary")
                r.kind = AllowRule::Kind::Binary;
            else
                fail("unknown disposition '" + f[1] + "' (code, vocab, empty, written, binary)");
            if (r.kind == AllowRule::Kind::Code) {
                if (f[2].empty() || f[2] == "-") fail(f[0] + ": a code rule lists its values");
                std::size_t b = 0;
                for (;;) {
                    const std::size_t bar = f[2].find('|', b);
                    const std::string v = f[2].substr(b, bar == std::string::npos ? std::string::npos : bar - b);
                    if (v.empty()) fail(f[0] + ": empty value in the list");
                    if (v[0] == '@') {
                        if (std::find(std::begin(kShapes), std::end(kShapes), v) == std::end(kShapes)) fail("unknown shape '" + v + "'");
                        r.shapes.push_back(v);
                    } else {
                        r.values.insert(v);
                    }
                    if (bar == std::string::npos) break;
                    b = bar + 1;
                }
            } else if (f[2] != "-") {
                fail(f[0] + ": only code rules list values (use '-')");
            }
            if (!p.rules_.emplace(key, std::move(r)).second) fail(f[0] + " is listed twice");
        }
        if (p.rules_.empty()) throw TextPolicyError(allowName + ": no rules");
        if (p.version_.empty()) throw TextPolicyError(allowName + ": missing '# table-version:' line");
    }
    {
        std::istringstream in(vocabularyText);
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            if (line.empty() || line[0] == '#') continue;
            for (const Token& t : tokenize(line, Charset::Utf8)) {
                if (allOf(t.text, ::isdigit))
                    throw TextPolicyError(vocabularyName + ":" + std::to_string(n) + ": '" + t.text +
                                          "' is a number: numbers are kept only after a word");
                p.vocabulary_.insert(t.text);
            }
        }
        if (p.vocabulary_.empty()) throw TextPolicyError(vocabularyName + ": no words");
    }
    return p;
}

void TextPolicy::addVocabulary(const std::vector<std::string>& words, const std::string& where) {
    for (const std::string& w : words) {
        const auto toks = tokenize(w, Charset::Utf8);
        if (toks.size() != 1 || allOf(toks[0].text, ::isdigit))
            throw TextPolicyError(where + ": '" + w + "' is not one word (letters, or letters and digits)");
        vocabulary_.insert(toks[0].text);
    }
}

void TextPolicy::addVocabularyAttributes(const std::vector<std::string>& tags, const std::string& where) {
    for (const std::string& t : tags) {
        std::uint32_t key = 0;
        if (!parseTag(t, key) || ((key >> 16) & 1)) throw TextPolicyError(where + ": '" + t + "' is not a public tag (gggg,eeee)");
        AllowRule r;
        r.kind = AllowRule::Kind::Vocabulary;
        r.name = "charter addition";
        rules_[key] = r;
    }
}

void TextPolicy::refuseWords(const PhraseSet& phrases, const std::string& why) const {
    for (const std::string& w : vocabulary_) {
        if (phrases.matches(w, Charset::Ascii)) {
            // a hit on the word alone: the phrase is this single word
            const auto hits = phrases.find(w, Charset::Ascii);
            for (const auto& h : hits)
                if (h.begin == 0 && h.end == w.size()) throw TextPolicyError("the vocabulary holds '" + w + "', " + why);
        }
    }
}

const AllowRule* TextPolicy::find(std::uint16_t group, std::uint16_t element) const {
    const auto it = rules_.find((std::uint32_t{group} << 16) | element);
    return it == rules_.end() ? nullptr : &it->second;
}

bool TextPolicy::codeAllowed(const AllowRule& rule, std::string_view value) const {
    if (rule.values.count(std::string(value))) return true;
    for (const std::string& s : rule.shapes)
        if (shapeMatches(s, value)) return true;
    return false;
}

std::string TextPolicy::rebuild(std::string_view value, Charset cs, const PhraseSet& remove) const {
    thread_local Tokens t;
    tokenize(value, cs, t);
    std::string out;
    bool afterWord = false;
    for (std::size_t i = 0; i < t.toks.size(); ++i) {
        const std::string_view s = t.text(i);
        const bool number = allOf(s, ::isdigit);
        const bool keep = number ? afterWord && s.size() <= 4 : vocabulary_.count(std::string(s)) > 0;
        if (keep) {
            if (!out.empty()) out.push_back(' ');
            for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
        afterWord = keep && !number;
    }
    if (!remove.empty() && !out.empty()) {
        auto hits = remove.find(out, Charset::Ascii);
        if (!hits.empty()) out = removeHits(out, hits);
    }
    return out;
}

} // namespace anon
