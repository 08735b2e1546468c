#include "readerqueue/Adam.h"

#include "recist/Types.h"

#include <nlohmann/json.hpp>
#include <readstat.h>

#include <cstdio>
#include <stdexcept>

namespace rq::adam {

namespace fs = std::filesystem;
using T = Variable::Type;

const std::vector<Variable>& adtteVariables() {
    static const std::vector<Variable> v{
        {"STUDYID", "Study Identifier", T::Text, "SUBJ.STUDYID"},
        {"USUBJID", "Unique Subject Identifier", T::Text, "SUBJ.USUBJID"},
        {"EVALID", "Evaluator Identifier", T::Text, "TU.TUEVALID (RADIOLOGIST 1/2, ADJUDICATOR for an adjudicated result)"},
        {"PARAMCD", "Parameter Code", T::Text, "Assigned: RPFS"},
        {"STARTDT", "Time to Event Origin Date", T::Date, "SUBJ.RANDDT"},
        {"ADT", "Analysis Date", T::Date, "Derived: event or censoring date (recist-sdtm.md 7.2)"},
        {"AVAL", "Analysis Value (days)", T::Integer, "Derived: ADT - STARTDT + 1"},
        {"CNSR", "Censor (0 event, 1 censored)", T::Integer, "Derived: recist-sdtm.md 7.2 rules 1-5"},
        {"EVNTDESC", "Event or Censoring Description", T::Text, "Derived: RADIOLOGICAL PROGRESSION | DEATH (CNSR 0)"},
        {"CNSDTDSC", "Censor Date Description", T::Text,
         "Derived: NO BASELINE ASSESSMENT | PD AFTER MISSED ASSESSMENTS | DEATH AFTER MISSED ASSESSMENTS | NO ADEQUATE POST-BASELINE "
         "ASSESSMENT | NO PROGRESSION (CNSR 1)"},
    };
    return v;
}

const std::vector<Variable>& adrsVariables() {
    static const std::vector<Variable> v{
        {"STUDYID", "Study Identifier", T::Text, "SUBJ.STUDYID"},
        {"USUBJID", "Unique Subject Identifier", T::Text, "SUBJ.USUBJID"},
        {"EVALID", "Evaluator Identifier", T::Text, "TU.TUEVALID"},
        {"PARAMCD", "Parameter Code", T::Text, "Assigned: OVR (per visit), BOR (per subject)"},
        {"AVALC", "Analysis Value (C)", T::Text, "RS.RSORRES of OVRLRESP (OVR) or BESTRESP (BOR)"},
        {"ADT", "Analysis Date", T::Date, "RS.RSDTC: the visit's earliest scan date (OVR)"},
        {"VISITNUM", "Visit Number", T::Text, "RS.VISITNUM (OVR)"},
    };
    return v;
}

std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"') {
            quoted = any = true;
        } else if (c == ',') {
            row.push_back(std::move(field));
            field.clear();
            any = true;
        } else if (c == '\n') {
            if (!field.empty() && field.back() == '\r') field.pop_back();
            row.push_back(std::move(field));
            field.clear();
            rows.push_back(std::move(row));
            row.clear();
            any = false;
        } else {
            field += c;
            any = true;
        }
    }
    if (any) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
    }
    return rows;
}

namespace {

ssize_t toFile(const void* data, size_t len, void* ctx) { return static_cast<ssize_t>(std::fwrite(data, 1, len, static_cast<std::FILE*>(ctx))); }

} // namespace

void writeXpt(const fs::path& file, const std::string& dataset, const std::string& label, const std::vector<Variable>& vars,
              const std::string& csv) {
    const auto rows = parseCsv(csv);
    if (rows.empty()) throw std::runtime_error(file.string() + ": no header");
    std::vector<std::size_t> column;
    for (const Variable& v : vars) {
        std::size_t at = rows[0].size();
        for (std::size_t i = 0; i < rows[0].size(); ++i)
            if (rows[0][i] == v.name) at = i;
        if (at == rows[0].size()) throw std::runtime_error(file.string() + ": no column " + v.name);
        column.push_back(at);
    }
    const recist::Date sasEpoch = recist::Date::fromCivil(1960, 1, 1);
    // values first: every problem is found before anything is written
    std::vector<std::vector<double>> numbers(rows.size());
    std::vector<std::size_t> width(vars.size(), 1);
    for (std::size_t r = 1; r < rows.size(); ++r) {
        if (rows[r].size() != rows[0].size())
            throw std::runtime_error(file.string() + ": row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) + " fields");
        numbers[r].assign(vars.size(), 0);
        for (std::size_t c = 0; c < vars.size(); ++c) {
            const std::string& s = rows[r][column[c]];
            if (vars[c].type == T::Text) {
                width[c] = std::max(width[c], s.size());
                if (s.size() > 200) throw std::runtime_error(file.string() + ": row " + std::to_string(r + 1) + " " + vars[c].name + " longer than 200");
            } else if (!s.empty() && vars[c].type == T::Date) {
                recist::Date d;
                if (!recist::Date::parse(s, d))
                    throw std::runtime_error(file.string() + ": row " + std::to_string(r + 1) + " " + vars[c].name + " '" + s + "' is not a date");
                numbers[r][c] = d - sasEpoch;
            } else if (!s.empty()) {
                std::size_t used = 0;
                try {
                    numbers[r][c] = std::stod(s, &used);
                } catch (const std::exception&) {
                    used = 0;
                }
                if (used != s.size())
                    throw std::runtime_error(file.string() + ": row " + std::to_string(r + 1) + " " + vars[c].name + " '" + s + "' is not a number");
            }
        }
    }
    const fs::path tmp = file.string() + ".tmp";
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) throw std::runtime_error(tmp.string() + ": cannot be written");
    readstat_writer_t* w = readstat_writer_init();
    readstat_set_data_writer(w, toFile);
    readstat_writer_set_file_label(w, label.c_str());
    readstat_writer_set_table_name(w, dataset.c_str());
    readstat_writer_set_file_format_version(w, 5);
    std::vector<readstat_variable_t*> handles;
    for (std::size_t c = 0; c < vars.size(); ++c) {
        const bool text = vars[c].type == T::Text;
        readstat_variable_t* v = readstat_add_variable(w, vars[c].name.c_str(), text ? READSTAT_TYPE_STRING : READSTAT_TYPE_DOUBLE,
                                                       text ? width[c] : 8);
        readstat_variable_set_label(v, vars[c].label.c_str());
        if (vars[c].type == T::Date) readstat_variable_set_format(v, "DATE9.");
        handles.push_back(v);
    }
    readstat_error_t err = readstat_begin_writing_xport(w, out, static_cast<long>(rows.size() - 1));
    for (std::size_t r = 1; r < rows.size() && err == READSTAT_OK; ++r) {
        err = readstat_begin_row(w);
        for (std::size_t c = 0; c < vars.size() && err == READSTAT_OK; ++c) {
            const std::string& s = rows[r][column[c]];
            if (vars[c].type == T::Text)
                err = readstat_insert_string_value(w, handles[c], s.c_str());
            else if (s.empty())
                err = readstat_insert_missing_value(w, handles[c]);
            else
                err = readstat_insert_double_value(w, handles[c], numbers[r][c]);
        }
        if (err == READSTAT_OK) err = readstat_end_row(w);
    }
    if (err == READSTAT_OK) err = readstat_end_writing(w);
    readstat_writer_free(w);
    const bool flushed = std::fflush(out) == 0;
    std::fclose(out);
    if (err != READSTAT_OK || !flushed) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw std::runtime_error(file.string() + ": SAS transport not written (" + readstat_error_message(err) + ")");
    }
    fs::rename(tmp, file);
}

std::string defineJson(const std::string& studyId, int rpfsMaxGapDays, bool rpfsDeathIsEvent, const std::string& note) {
    auto vars = [](const std::vector<Variable>& vs) {
        nlohmann::json a = nlohmann::json::array();
        for (const Variable& v : vs)
            a.push_back({{"name", v.name},
                         {"label", v.label},
                         {"type", v.type == T::Text ? "text" : v.type == T::Integer ? "integer" : "date"},
                         {"xpt", v.type == T::Text ? "character" : v.type == T::Integer ? "numeric" : "numeric, SAS date, format DATE9."},
                         {"origin", v.origin}});
        return a;
    };
    nlohmann::json d{
        {"study", studyId},
        {"standard", "ADaM-style (ADTTE, ADRS) from the blinded central review; derivations in recist-sdtm.md section 7"},
        {"censoring", {{"rpfs_max_gap_days", rpfsMaxGapDays}, {"rpfs_death_is_event", rpfsDeathIsEvent}, {"guidance", "FDA 2018, Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics, table of PFS censoring options"}}},
        {"note", note},
        {"datasets",
         {{{"name", "ADTTE"}, {"label", "Time to Event: radiological PFS"}, {"files", {"ADTTE.csv", "ADTTE.xpt"}}, {"key", {"USUBJID", "EVALID", "PARAMCD"}}, {"variables", vars(adtteVariables())}},
          {{"name", "ADRS"}, {"label", "Response: per-visit (OVR) and best overall (BOR)"}, {"files", {"ADRS.csv", "ADRS.xpt"}}, {"key", {"USUBJID", "EVALID", "PARAMCD", "VISITNUM"}}, {"variables", vars(adrsVariables())}}}},
    };
    return d.dump(2) + "\n";
}

} // namespace rq::adam
