// CDISC SDTM input and output of the engine, exactly as in the engine contract
// (recist-sdtm.md): TU.csv + TR.csv + SUBJ.csv + config.json in, RS.csv out.
//
// Reading is all-or-nothing: every bad row anywhere is reported as an Error with the
// contract's rule code, file and physical line (header = line 1), and no read is returned.
#pragma once

#include "recist/Endpoints.h"
#include "recist/Evaluate.h"
#include "recist/Model.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace recist::sdtm {

struct Error {
    std::string rule; ///< MISSING_COLUMN, BAD_DATE, BAD_VISITNUM, ... (contract §6)
    std::string file; ///< file name as given
    int line = 0;
    std::string message;
    /// "ERROR <RULE> <FILE>:<LINE> <message>"
    std::string format() const;
};

struct SubjectInfo {
    std::string studyId, subjectId;
    Date randomization;
    std::optional<Date> death;
};

struct Input {
    std::vector<Read> reads; ///< one per subject and evaluator, ordered by subject then evaluator
    std::vector<SubjectInfo> subjects; ///< SUBJ.csv's subjects, in file order
    Options options;
    std::vector<Error> errors; ///< empty when the input is valid
};

/// Supplies a text in pieces that each end on a record boundary; false when done.
using ChunkSource = std::function<bool(std::string_view& chunk)>;

/// The texts of the four inputs with the names used in messages.
struct Files {
    std::string tuName = "TU.csv", trName = "TR.csv", subjName = "SUBJ.csv", configName = "config.json";
    std::string_view tu, tr, subj, config;
    /// When set, TR is read from here piece by piece instead of from tr (the big file).
    ChunkSource trChunks;
};

/// Parses and validates everything (contract §1, §2, §6), including the baseline rules.
Input parse(const Files& files);

/// Reads and parses the four files. TR.csv is streamed in blocks, so memory holds the
/// parsed read rather than the text. A file that cannot be read is an IO error.
Input parseFiles(const std::string& tu, const std::string& tr, const std::string& subjects, const std::string& config);

/// Reads a file in blocks of about blockBytes that end on a CSV record boundary.
ChunkSource csvFileChunks(const std::string& path, std::size_t blockBytes = 16u << 20);

/// Parses config.json: the five keys, all required.
bool parseOptions(std::string_view json, const std::string& name, Options& out, std::vector<Error>& errors);

/// Appends one CSV field, quoted (RFC 4180) only when it holds a comma, quote or line break.
void appendCsvField(std::string& out, std::string_view value);

/// RS.csv text for the results (contract §5).
std::string writeRs(const std::vector<SubjectResult>& results);

/// ADTTE.csv (contract §7.3): the header, then one RPFS row per element.
std::string writeAdtte(const std::vector<TimeToEvent>& rows);
/// ADRS.csv (contract §7.4): OVR per post-baseline visit and BOR per read; nothing for a read
/// without a baseline visit.
std::string writeAdrs(const std::vector<SubjectResult>& results);

/// Human-readable explanation of each result, one line per result.
std::string explain(const std::vector<SubjectResult>& results);

} // namespace recist::sdtm
