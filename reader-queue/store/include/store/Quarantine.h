#pragma once
// The quarantine's records, owned here: every quarantined file (the original bytes, under the
// quarantine folder at the path it had below the import folder) has a reason record beside it,
// "<file>.reason.json": {input, input_sha256, time, reasons: [{category, detail}]}. The
// anonymizer writes them (atomically), the data manager's decisions and the dashboard read them.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace store {

struct QuarantineReason {
    std::string category; ///< corrupt, not-dicom, not-enrolled, arm-series, burned-in, secondary-capture, modality, leak, ...
    std::string detail;
    std::string text() const { return category + ": " + detail; }
};

struct QuarantineRecord {
    std::filesystem::path file; ///< the quarantined bytes
    std::string relative;       ///< its path inside the quarantine folder
    std::string input;          ///< where it came from (unblinded: only the data manager sees it)
    std::string inputHash;      ///< SHA-256 of the original bytes
    std::string time;           ///< ISO 8601 UTC
    std::vector<QuarantineReason> reasons;
    std::uintmax_t bytes = 0;
};

/// "<file>.reason.json".
std::filesystem::path reasonFileOf(const std::filesystem::path& quarantined);
/// Writes the reason record of a quarantined file (temporary file, then rename). False when it cannot.
bool writeRecord(const std::filesystem::path& quarantined, const QuarantineRecord& r);
/// Every quarantined file with its record, by path; a file whose record is missing or unreadable
/// is listed with that as its reason (category "unknown"). An absent folder has none.
std::vector<QuarantineRecord> listQuarantine(const std::filesystem::path& quarantine);
/// Files waiting for a decision by the category of their first reason (never by subject or file).
std::map<std::string, int> countsByCategory(const std::filesystem::path& quarantine);
/// Deletes the file's reason record (after a decision).
void removeRecord(const std::filesystem::path& quarantined);

} // namespace store
