#pragma once
// The allow-list of text (issue 14): which text-bearing data elements may reach the store and in
// what form - enumerated codes, a shape, text rebuilt from the controlled vocabulary of
// descriptors, an empty Type 2 value, or the trial identity the anonymizer writes itself.
// Loaded from assets/deid/text-allow-list.tsv and assets/deid/descriptor-vocabulary.txt (plus
// the charter's per-trial additions); everything a site typed that is not one of these is removed.
#include "anonymizer/Text.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace anon {

struct TextPolicyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct AllowRule {
    enum class Kind { Code, Vocabulary, Empty, Written, Binary };
    Kind kind = Kind::Code;
    std::set<std::string> values;    ///< Code: the values allowed as they are
    std::vector<std::string> shapes; ///< Code: @digits @age @orientation @kernel @codevalue
    std::string name;
};

class TextPolicy {
public:
    /// Loads and validates both files; errors name file:line.
    static TextPolicy load(const std::filesystem::path& allowList, const std::filesystem::path& vocabulary);
    static TextPolicy parse(const std::string& allowText, const std::string& allowName, const std::string& vocabularyText,
                            const std::string& vocabularyName);

    /// Per-trial additions (the charter's): more vocabulary words, and more attributes rebuilt
    /// from the vocabulary ("(gggg,eeee)" tags). Throws TextPolicyError naming what is wrong.
    void addVocabulary(const std::vector<std::string>& words, const std::string& where);
    void addVocabularyAttributes(const std::vector<std::string>& tags, const std::string& where);
    /// Refuses a vocabulary holding a word that is, alone, one of the given (arm) phrases.
    void refuseWords(const PhraseSet& phrases, const std::string& why) const;

    const AllowRule* find(std::uint16_t group, std::uint16_t element) const;
    /// One value of a Code rule allowed as it is?
    bool codeAllowed(const AllowRule& rule, std::string_view value) const;
    /// The value rebuilt from the vocabulary: vocabulary words (upper case) and numbers of at
    /// most 4 digits right after one, one space apart; then every phrase of `remove` is taken out.
    std::string rebuild(std::string_view value, Charset cs, const PhraseSet& remove) const;
    bool inVocabulary(std::string_view foldedToken) const { return vocabulary_.count(std::string(foldedToken)) > 0; }

    const std::string& version() const { return version_; }
    std::size_t vocabularySize() const { return vocabulary_.size(); }
    const std::map<std::uint32_t, AllowRule>& rules() const { return rules_; }

private:
    std::map<std::uint32_t, AllowRule> rules_;
    std::set<std::string> vocabulary_;
    std::string version_;
};

} // namespace anon
