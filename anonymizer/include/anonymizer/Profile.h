#pragma once
// The de-identification profile as data: PS3.15 Annex E Table E.1-1 loaded from
// assets/deid/ps3.15-E.1-1.tsv, and the action it gives an attribute under the charter's options.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace anon {

/// What to do with one attribute.
enum class Action : std::uint8_t {
    Keep,    ///< K (or not listed)
    Remove,  ///< X
    Zero,    ///< Z: zero-length value (sequence: no items)
    Dummy,   ///< D: a dummy value of the VR (sequence: items kept, de-identified recursively)
    Uid,     ///< U: remapped UID
    Recurse, ///< U* on a sequence: items kept, their UIDs remapped (and actions applied inside)
    Clean,   ///< C under Clean Descriptors / Structured Content / Patient Characteristics
    Shift,   ///< C under Retain Longitudinal Temporal Information with Modified Dates
};
const char* actionName(Action a);

struct ProfileOptions {
    bool fullDates = true;      ///< Retain Longitudinal Temporal Information, Full Dates
    bool modifiedDates = false; ///< ... Modified Dates (whole-day shift per subject)
    bool cleanDescriptors = true;
    bool cleanStructuredContent = true;
    bool retainPatientCharacteristics = false;
};

struct ProfileRow {
    std::uint16_t group = 0, element = 0;
    std::uint16_t groupMask = 0xFFFF, elementMask = 0xFFFF; ///< 50xx / 60xx / xxxx wildcards
    bool privateRows = false;                               ///< the (GGGG,EEEE) odd-group row
    std::string basic;                                      ///< "X", "X/Z/D", "X/Z/U*"...
    std::vector<std::pair<std::string, char>> options;      ///< ("desc", 'C')...
    std::string name;
};

/// One line of the project's TSV tables, split at its tabs (the profile table, the text allow-list).
std::vector<std::string> splitTabs(const std::string& line);

struct ProfileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Profile {
public:
    /// Loads and validates the table; throws ProfileError naming file:line.
    static Profile load(const std::filesystem::path& tsv);
    static Profile parse(const std::string& text, const std::string& fileName);

    /// The row for a public attribute (exact rows first, then wildcard rows), or nullptr.
    const ProfileRow* find(std::uint16_t group, std::uint16_t element) const;
    /// The action for a listed attribute under the options; isSequence picks the sequence reading
    /// of D (keep items, recurse) and of Z (no items).
    Action action(const ProfileRow& row, const ProfileOptions& o, bool isSequence) const;

    const std::vector<ProfileRow>& rows() const { return rows_; }
    const std::string& version() const { return version_; }
    const std::string& edition() const { return edition_; }

private:
    std::vector<ProfileRow> rows_;
    std::vector<std::uint32_t> exactKeys_; // sorted (group << 16 | element)
    std::vector<std::size_t> exactIndex_;
    std::vector<std::size_t> wildcard_;
    std::string version_, edition_, declaredRows_;
};

} // namespace anon
