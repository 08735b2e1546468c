// CDISC SDTM input and output of the engine, exactly as in the engine contract
// (recist-sdtm.md): TU.csv + TR.csv + SUBJ.csv + config.json in, RS.csv out.
//
// Reading is all-or-nothing: every bad row anywhere is reported as an Error with the
// contract's rule code, file and physical line (header = line 1), and no read is returned.
#pragma once

#include "recist/Evaluate.h"
#include "recist/Model.h"

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

struct Input {
    std::vector<Read> reads; ///< one per subject and evaluator, ordered by subject then evaluator
    Options options;
    std::vector<Error> errors; ///< empty when the input is valid
};

/// The texts of the four inputs with the names used in messages.
struct Files {
    std::string tuName = "TU.csv", trName = "TR.csv", subjName = "SUBJ.csv", configName = "config.json";
    std::string_view tu, tr, subj, config;
};

/// Parses and validates everything (contract §1, §2, §6), including the baseline rules.
Input parse(const Files& files);

/// Parses config.json: the five keys, all required.
bool parseOptions(std::string_view json, const std::string& name, Options& out, std::vector<Error>& errors);

/// RS.csv text for the results (contract §5).
std::string writeRs(const std::vector<SubjectResult>& results);

/// Human-readable explanation of each result, one line per result.
std::string explain(const std::vector<SubjectResult>& results);

} // namespace recist::sdtm
