#include "anonymizer/Text.h"

#include <algorithm>
#include <cstdint>

namespace anon {
namespace {

// Folds one code point to lower-case ASCII; 0 for a separator.
// Covers ASCII, Latin-1 Supplement and Latin Extended-A (French, German, Spanish, Nordic...).
char foldCodePoint(std::uint32_t c) {
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return static_cast<char>(c);
        return 0;
    }
    if (c >= 0xC0 && c <= 0xFF) {
        // À..ÿ without × (D7) and ÷ (F7)
        static const char latin1[] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts"  // C0..DF (Þ->t, ß->s)
                                     "aaaaaaaceeeeiiiidnooooo\0ouuuuyty"; // E0..FF
        return latin1[c - 0xC0];
    }
    if (c >= 0x100 && c <= 0x17F) {
        static const char extA[] = "aaaaaaccccccccdddd"
                                   "eeeeeeeeee"
                                   "gggggggg"
                                   "hhhh"
                                   "iiiiiiiiii"
                                   "ii"
                                   "jj"
                                   "kkk"
                                   "llllllllll"
                                   "nnnnnnnnn"
                                   "oooooo"
                                   "oo"
                                   "rrrrrr"
                                   "ssssssss"
                                   "tttttt"
                                   "uuuuuuuuuuuu"
                                   "ww"
                                   "yyy"
                                   "zzzzzz"
                                   "s";
        const std::size_t i = c - 0x100;
        return i < sizeof(extA) - 1 ? extA[i] : 0;
    }
    return 0;
}

// Decodes one code point at value[i]; sets len (>= 1). Invalid UTF-8 is taken byte by byte.
std::uint32_t decode(std::string_view v, std::size_t i, Charset cs, std::size_t& len) {
    const auto b0 = static_cast<unsigned char>(v[i]);
    len = 1;
    if (b0 < 0x80 || cs == Charset::Ascii) return b0 < 0x80 ? b0 : 0xFFFFFFFF;
    if (cs == Charset::Latin1) return b0;
    auto cont = [&](std::size_t k) { return i + k < v.size() && (static_cast<unsigned char>(v[i + k]) & 0xC0) == 0x80; };
    if ((b0 & 0xE0) == 0xC0 && cont(1)) {
        len = 2;
        return ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(v[i + 1]) & 0x3Fu);
    }
    if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
        len = 3;
        return ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(v[i + 1]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(v[i + 2]) & 0x3Fu);
    }
    if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
        len = 4;
        return 0x10000; // outside our folding range: a separator
    }
    return 0xFFFFFFFF;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

} // namespace

Charset charsetFromDicom(std::string_view s) {
    if (s.find("ISO_IR 192") != std::string_view::npos) return Charset::Utf8;
    if (s.find("ISO_IR 100") != std::string_view::npos || s.find("ISO 2022 IR 100") != std::string_view::npos) return Charset::Latin1;
    // No charset means the default repertoire; sites still send UTF-8 or Latin-1 bytes
    // without declaring them, and UTF-8 decoding falls back to byte-wise on invalid input.
    if (s.empty()) return Charset::Utf8;
    return Charset::Ascii;
}

void tokenize(std::string_view v, Charset cs, Tokens& out) {
    out.folded.clear();
    out.toks.clear();
    bool open = false;
    char lastKind = 0; // 'a' letter, '0' digit
    Tokens::Tok cur;
    auto close = [&] {
        cur.flen = static_cast<std::uint32_t>(out.folded.size()) - cur.fbegin;
        out.toks.push_back(cur);
        open = false;
    };
    for (std::size_t i = 0; i < v.size();) {
        std::size_t len = 1;
        const auto b = static_cast<unsigned char>(v[i]);
        std::uint32_t cp;
        if (b < 0x80)
            cp = b;
        else
            cp = decode(v, i, cs, len);
        const char f = cp == 0xFFFFFFFF ? 0 : foldCodePoint(cp);
        if (f == 0) {
            if (open) close();
        } else {
            const char kind = isDigit(f) ? '0' : 'a';
            if (open && kind != lastKind) close();
            if (!open) {
                cur.begin = i;
                cur.fbegin = static_cast<std::uint32_t>(out.folded.size());
                open = true;
            }
            out.folded.push_back(f);
            if (cp == 0xC6 || cp == 0xE6 || cp == 0x152 || cp == 0x153) out.folded.push_back('e'); // Æ æ Œ œ
            if (cp == 0xDF) out.folded.push_back('s');                                             // ß
            cur.end = i + len;
            lastKind = kind;
        }
        i += len;
    }
    if (open) close();
}

std::vector<Token> tokenize(std::string_view v, Charset cs) {
    Tokens t;
    tokenize(v, cs, t);
    std::vector<Token> out;
    for (std::size_t i = 0; i < t.toks.size(); ++i) out.push_back({std::string(t.text(i)), t.toks[i].begin, t.toks[i].end});
    return out;
}

PhraseSet::PhraseSet(const std::vector<std::string>& phrases, std::size_t minChars) {
    for (const std::string& p : phrases) add(p, minChars);
}

void PhraseSet::add(std::string_view phrase, std::size_t minChars) {
    std::vector<std::string> toks;
    std::size_t chars = 0;
    for (Token& t : tokenize(phrase, Charset::Utf8)) {
        chars += t.text.size();
        toks.push_back(std::move(t.text));
    }
    if (toks.empty() || chars < minChars) return;
    for (const auto& existing : phrases_) {
        if (existing == toks) return;
    }
    const std::string first = toks.front();
    phrases_.push_back(std::move(toks));
    originals_.emplace_back(phrase);
    const auto entry = std::make_pair(first, phrases_.size() - 1);
    byFirst_.insert(std::upper_bound(byFirst_.begin(), byFirst_.end(), entry), entry);
}

std::vector<PhraseSet::Hit> PhraseSet::find(std::string_view value, Charset cs) const {
    if (phrases_.empty() || value.empty()) return {};
    thread_local Tokens tokens;
    tokenize(value, cs, tokens);
    return find(tokens);
}

std::vector<PhraseSet::Hit> PhraseSet::find(const Tokens& t) const {
    std::vector<Hit> hits;
    if (phrases_.empty()) return hits;
    auto less = [](const std::pair<std::string, std::size_t>& e, std::string_view k) { return std::string_view(e.first) < k; };
    for (std::size_t i = 0; i < t.toks.size(); ++i) {
        const std::string_view first = t.text(i);
        for (auto it = std::lower_bound(byFirst_.begin(), byFirst_.end(), first, less); it != byFirst_.end() && it->first == first; ++it) {
            const auto& ph = phrases_[it->second];
            if (i + ph.size() > t.toks.size()) continue;
            bool ok = true;
            for (std::size_t k = 1; k < ph.size() && ok; ++k) ok = t.text(i + k) == ph[k];
            if (ok) hits.push_back({it->second, t.toks[i].begin, t.toks[i + ph.size() - 1].end});
        }
    }
    std::sort(hits.begin(), hits.end(),
              [](const Hit& a, const Hit& b) { return a.phrase < b.phrase || (a.phrase == b.phrase && a.begin < b.begin); });
    return hits;
}

std::string removeHits(std::string_view value, std::vector<PhraseSet::Hit> hits) {
    std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
    std::string out;
    std::size_t pos = 0;
    for (const auto& h : hits) {
        if (h.end <= pos) continue;
        if (h.begin > pos) out.append(value.substr(pos, h.begin - pos));
        out.push_back(' ');
        pos = h.end;
    }
    if (pos < value.size()) out.append(value.substr(pos));
    // collapse runs of spaces and punctuation left around a removed phrase
    std::string collapsed;
    for (char c : out) {
        if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
        collapsed.push_back(c);
    }
    auto junk = [](char c) { return c == ' ' || c == '-' || c == ',' || c == '(' || c == ')' || c == '/' || c == '^'; };
    while (!collapsed.empty() && junk(collapsed.back())) collapsed.pop_back();
    std::size_t b = 0;
    while (b < collapsed.size() && junk(collapsed[b])) ++b;
    return collapsed.substr(b);
}

} // namespace anon
