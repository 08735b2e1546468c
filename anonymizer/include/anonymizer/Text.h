#pragma once
// Case- and accent-insensitive phrase matching over DICOM text values, used both to clean
// arm words and patient identifiers out of text and to scan the output for leaks.
//
// A value is folded into tokens: maximal runs of letters or of digits, lower-cased, accents
// removed (Latin-1 and Latin Extended-A), everything else a separator; a letter/digit change
// also splits ("177Lu" -> "177" "lu"). A phrase matches where its token sequence occurs as
// consecutive tokens of the value, so "Lu-177", "lu 177" and "LU177" all match "Lu-177", and
// "C3" matches "C 3" but not "C30" or "DC3".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anon {

enum class Charset { Ascii, Latin1, Utf8 };

/// The charset of a value given DICOM SpecificCharacterSet (0008,0005): ISO_IR 100 is
/// Latin-1, ISO_IR 192 UTF-8; absent means ASCII. Other repertoires are folded byte by byte
/// (their non-ASCII bytes are separators).
Charset charsetFromDicom(std::string_view specificCharacterSet);

struct Token {
    std::string text;      ///< folded
    std::size_t begin = 0; ///< byte range in the original value
    std::size_t end = 0;
};

std::vector<Token> tokenize(std::string_view value, Charset cs);

/// Tokens of one value in a reusable buffer (no allocation once warm).
struct Tokens {
    struct Tok {
        std::uint32_t fbegin = 0, flen = 0; ///< range in `folded`
        std::size_t begin = 0, end = 0;     ///< byte range in the original value
    };
    std::string folded;
    std::vector<Tok> toks;
    std::string_view text(std::size_t i) const { return {folded.data() + toks[i].fbegin, toks[i].flen}; }
};
void tokenize(std::string_view value, Charset cs, Tokens& out);

/// A set of phrases (each a token sequence) matched against values.
class PhraseSet {
public:
    PhraseSet() = default;
    explicit PhraseSet(const std::vector<std::string>& phrases, std::size_t minChars = 1);
    /// Adds a phrase (given as UTF-8); phrases shorter than minChars folded characters are ignored.
    void add(std::string_view phrase, std::size_t minChars = 1);
    bool empty() const { return phrases_.empty(); }
    std::size_t size() const { return phrases_.size(); }

    struct Hit {
        std::size_t phrase = 0; ///< index in phrases()
        std::size_t begin = 0;  ///< byte range in the value
        std::size_t end = 0;
    };
    std::vector<Hit> find(std::string_view value, Charset cs) const;
    std::vector<Hit> find(const Tokens& tokens) const;
    bool matches(std::string_view value, Charset cs) const { return !find(value, cs).empty(); }
    const std::string& phrase(std::size_t i) const { return originals_[i]; }

private:
    std::vector<std::vector<std::string>> phrases_;
    std::vector<std::string> originals_;
    std::vector<std::pair<std::string, std::size_t>> byFirst_; ///< sorted (first token, phrase)
};

/// Removes every hit from the value (byte ranges), collapsing the separators left behind
/// and trimming; returns the cleaned value.
std::string removeHits(std::string_view value, std::vector<PhraseSet::Hit> hits);

} // namespace anon
