#pragma once
// The statistician's datasets beside the SDTM export: ADaM-style ADTTE (rPFS) and ADRS (per-visit
// and best overall response), as the CSV the engine writes (recist/Sdtm.h, contract §7) and as
// SAS transport v5 (.xpt, written with Debian's libreadstat), with define-style variable
// metadata in a small JSON.
#include <filesystem>
#include <string>
#include <vector>

namespace rq::adam {

struct Variable {
    std::string name, label;
    enum class Type { Text, Integer, Date } type = Type::Text;
    std::string origin; ///< how it is derived, for define.json
};

const std::vector<Variable>& adtteVariables();
const std::vector<Variable>& adrsVariables();

/// Rows of a CSV text with a header (RFC 4180 quotes), the header first.
std::vector<std::vector<std::string>> parseCsv(const std::string& text);

/// Writes `csv` (columns = vars, by name, in that order) as a SAS transport v5 file: text as
/// character variables as long as their longest value, integers as numbers, ISO dates as SAS
/// dates (days since 1960-01-01, format DATE9.); empty values missing. Written to a temporary
/// name and renamed. Throws std::runtime_error naming the file and the row.
void writeXpt(const std::filesystem::path& file, const std::string& dataset, const std::string& label, const std::vector<Variable>& vars,
              const std::string& csv);

/// define.json: the datasets, their variables (name, label, type, origin) and the charter's
/// rPFS censoring options they were derived with.
std::string defineJson(const std::string& studyId, int rpfsMaxGapDays, bool rpfsDeathIsEvent, const std::string& note);

} // namespace rq::adam
