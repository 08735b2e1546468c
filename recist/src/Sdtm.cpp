// SDTM TU/TR/SUBJ readers, the config.json reader and the RS writer (contract §1-§6).
#include "recist/Sdtm.h"

#include "recist/Csv.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace recist::sdtm {

std::string Error::format() const { return "ERROR " + rule + " " + file + ":" + std::to_string(line) + " " + message; }

namespace {

[[gnu::always_inline]] inline std::string_view trim(std::string_view s) {
    if (s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t')) return s;
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string upper(std::string_view s) {
    std::string u(trim(s));
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
}

[[gnu::always_inline]] inline char asciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

/// Case-insensitive (ASCII) comparison of a (trimmed) field with an upper-case constant.
[[gnu::always_inline]] inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (asciiUpper(a[i]) != asciiUpper(b[i])) return false;
    }
    return true;
}

/// A CSV file with its columns found by header name (case-insensitive).
class Table {
public:
    Table(std::string_view text, std::string name, std::vector<Error>& errors, ChunkSource more = {})
        : m_reader(text), m_name(std::move(name)), m_errors(errors), m_more(std::move(more)) {
        if (next()) { // next() pulls the first piece from `more` when text is empty
            for (std::size_t i = 0; i < m_fields.size(); ++i) m_columns[upper(m_fields[i])] = i;
        }
    }
    /// Index of a required column, reporting MISSING_COLUMN when absent.
    std::size_t require(const std::string& column) {
        auto it = m_columns.find(column);
        if (it == m_columns.end()) {
            m_errors.push_back({"MISSING_COLUMN", m_name, 1, "required column " + column + " is missing"});
            m_ok = false;
            return npos;
        }
        return it->second;
    }
    std::size_t optional(const std::string& column) const {
        auto it = m_columns.find(column);
        return it == m_columns.end() ? npos : it->second;
    }
    bool ok() const { return m_ok; }
    bool next() {
        while (!m_reader.next(m_fields, m_line)) {
            if (!refill()) return false;
        }
        for (std::string_view& f : m_fields) f = trim(f); // once per field, not per access
        return true;
    }
    [[gnu::always_inline]] std::string_view operator[](std::size_t column) const {
        return column < m_fields.size() ? m_fields[column] : std::string_view{};
    }
    int line() const { return m_line; }
    const std::string& name() const { return m_name; }
    void error(const std::string& rule, const std::string& message) { m_errors.push_back({rule, m_name, m_line, message}); }
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    bool refill() {
        std::string_view chunk;
        if (!m_more || !m_more(chunk)) return false;
        m_reader = csv::Reader(chunk, m_reader.nextLine());
        return true;
    }

    csv::Reader m_reader;
    std::string m_name;
    std::vector<Error>& m_errors;
    ChunkSource m_more;
    std::vector<std::string_view> m_fields;
    std::map<std::string, std::size_t> m_columns;
    int m_line = 1;
    bool m_ok = true;
};

struct Subject {
    std::string studyId;
    Date randomization;
    std::optional<Date> death;
    bool valid = true;
};

struct ReadBuilder {
    Read read;
    std::set<std::string> badLesions; ///< identified on a bad TU row: their TR rows are not judged again

    const Lesion* lesion(std::string_view id) const {
        for (const Lesion& l : read.lesions) {
            if (sameId(l.id, id)) return &l;
        }
        return nullptr;
    }
    Visit& visit(VisitNum number, int line) {
        // Rows usually come visit by visit: look from the back.
        for (auto it = read.visits.rbegin(); it != read.visits.rend(); ++it) {
            if (it->number == number) return *it;
        }
        if (read.visits.empty()) read.visits.reserve(8); // a trial's schedule: baseline + a handful
        Visit& v = read.visits.emplace_back();
        v.number = number;
        v.sourceLine = line;
        v.assessments.reserve(read.lesions.size()); // usually one row per lesion
        return v;
    }
};

struct KeyHash {
    std::size_t operator()(const std::pair<std::string, std::string>& k) const {
        return std::hash<std::string>()(k.first) * 31 + std::hash<std::string>()(k.second);
    }
};

bool isNodal(std::string_view location) {
    constexpr std::string_view kNode = "LYMPH NODE";
    for (std::size_t i = 0; i + kNode.size() <= location.size(); ++i) {
        if (iequals(location.substr(i, kNode.size()), kNode)) return true;
    }
    return false;
}

} // namespace

bool parseOptions(std::string_view json, const std::string& name, Options& out, std::vector<Error>& errors) {
    // A flat JSON object of scalars: enough for the five keys, strict about everything else.
    std::map<std::string, std::pair<std::string, int>> values; // key -> (raw scalar, line)
    std::size_t i = 0;
    int line = 1;
    auto fail = [&](const std::string& message) {
        errors.push_back({"BAD_CONFIG", name, line, message});
        return false;
    };
    auto skip = [&] {
        while (i < json.size() && std::isspace(static_cast<unsigned char>(json[i]))) {
            if (json[i] == '\n') ++line;
            ++i;
        }
    };
    if (json.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
    skip();
    if (i >= json.size() || json[i] != '{') return fail("config must be a JSON object");
    ++i;
    skip();
    if (i < json.size() && json[i] == '}') {
        ++i;
    } else {
        for (;;) {
            skip();
            if (i >= json.size() || json[i] != '"') return fail("expected a quoted key");
            const std::size_t start = ++i;
            while (i < json.size() && json[i] != '"') ++i;
            if (i >= json.size()) return fail("unterminated key");
            const std::string key(json.substr(start, i - start));
            ++i;
            skip();
            if (i >= json.size() || json[i] != ':') return fail("expected ':' after \"" + key + "\"");
            ++i;
            skip();
            const int valueLine = line;
            std::string raw;
            if (i < json.size() && json[i] == '"') {
                const std::size_t s = ++i;
                while (i < json.size() && json[i] != '"') ++i;
                raw = "\"" + std::string(json.substr(s, i - s));
                ++i;
            } else {
                while (i < json.size() && json[i] != ',' && json[i] != '}' && !std::isspace(static_cast<unsigned char>(json[i])))
                    raw += json[i++];
            }
            if (raw.empty()) return fail("missing value for \"" + key + "\"");
            values[key] = {raw, valueLine};
            skip();
            if (i < json.size() && json[i] == ',') {
                ++i;
                continue;
            }
            if (i < json.size() && json[i] == '}') {
                ++i;
                break;
            }
            return fail("expected ',' or '}'");
        }
    }
    skip();
    if (i != json.size()) return fail("unexpected text after the object");
    bool ok = true;
    auto get = [&](const char* key) -> const std::pair<std::string, int>* {
        auto it = values.find(key);
        if (it == values.end()) {
            line = 1;
            ok = fail(std::string("missing key \"") + key + "\"");
            return nullptr;
        }
        return &it->second;
    };
    if (auto v = get("confirmation_required")) {
        if (v->first == "true")
            out.confirmationRequired = true;
        else if (v->first == "false")
            out.confirmationRequired = false;
        else {
            line = v->second;
            ok = fail("\"confirmation_required\" must be true or false");
        }
    }
    for (auto [key, field] : {std::pair{"confirmation_min_days", &out.confirmationMinDays},
                              {"sd_min_days_from_baseline", &out.sdMinDaysFromBaseline},
                              {"dcr_landmark_days", &out.dcrLandmarkDays},
                              {"dcr_window_days", &out.dcrWindowDays}}) {
        if (auto v = get(key)) {
            const std::string& s = v->first;
            const bool digits = !s.empty() && s.size() < 7 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (!digits) {
                line = v->second;
                ok = fail(std::string("\"") + key + "\" must be a non-negative whole number of days");
            } else {
                *field = std::stoi(s);
            }
        }
    }
    // contract §7: optional, defaults when absent
    if (auto it = values.find("rpfs_max_gap_days"); it != values.end()) {
        const std::string& s = it->second.first;
        if (s.empty() || s.size() >= 7 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            line = it->second.second;
            ok = fail("\"rpfs_max_gap_days\" must be a non-negative whole number of days");
        } else {
            out.rpfsMaxGapDays = std::stoi(s);
        }
    }
    if (auto it = values.find("rpfs_death_is_event"); it != values.end()) {
        if (it->second.first == "true" || it->second.first == "false") {
            out.rpfsDeathIsEvent = it->second.first == "true";
        } else {
            line = it->second.second;
            ok = fail("\"rpfs_death_is_event\" must be true or false");
        }
    }
    return ok;
}

Input parse(const Files& files) {
    Input in;
    std::vector<Error>& errors = in.errors;
    parseOptions(files.config, files.configName, in.options, errors);

    // Headers first: with a column missing anywhere, the rows cannot be judged (contract §6:
    // MISSING_COLUMN at line 1), so nothing else is reported.
    Table subjT(files.subj, files.subjName, errors);
    const auto sStudy = subjT.require("STUDYID"), sSubj = subjT.require("USUBJID"), sRand = subjT.require("RANDDT");
    const auto sDeath = subjT.optional("DTHDT");
    Table tuT(files.tu, files.tuName, errors);
    const auto uStudy = tuT.require("STUDYID"), uSubj = tuT.require("USUBJID"), uId = tuT.require("TULNKID"),
               uRole = tuT.require("TUORRES"), uLoc = tuT.require("TULOC"), uVisitNum = tuT.require("VISITNUM"),
               uEvalId = tuT.require("TUEVALID"), uDate = tuT.require("TUDTC");
    for (const char* c : {"TUEVAL", "VISIT"}) tuT.require(c);
    Table trT(files.trChunks ? std::string_view{} : files.tr, files.trName, errors, files.trChunks);
    const auto rSubj = trT.require("USUBJID"), rId = trT.require("TRLNKID"), rTest = trT.require("TRTESTCD"), rRes = trT.require("TRORRES"),
               rUnit = trT.require("TRORRESU"), rStat = trT.require("TRSTAT"), rReason = trT.require("TRREASND"),
               rEvalId = trT.require("TREVALID"), rVisitNum = trT.require("VISITNUM"), rDate = trT.require("TRDTC");
    for (const char* c : {"STUDYID", "TREVAL", "VISIT"}) trT.require(c);
    if (!subjT.ok() || !tuT.ok() || !trT.ok()) return in;

    // SUBJ.csv
    std::unordered_map<std::string, Subject> subjects;
    {
        Table& t = subjT;
        while (t.next()) {
            const std::string id(t[sSubj]);
            Subject s;
            s.studyId = std::string(t[sStudy]);
            if (!Date::parse(t[sRand], s.randomization)) {
                t.error("BAD_DATE", "RANDDT '" + std::string(t[sRand]) + "' is not a YYYY-MM-DD date");
                s.valid = false;
            }
            if (sDeath != Table::npos && !t[sDeath].empty()) {
                Date d;
                if (Date::parse(t[sDeath], d))
                    s.death = d;
                else
                    t.error("BAD_DATE", "DTHDT '" + std::string(t[sDeath]) + "' is not a YYYY-MM-DD date");
            }
            if (!subjects.emplace(id, s).second)
                t.error("DUPLICATE_RECORD", "subject " + id + " is listed twice");
            else
                in.subjects.push_back({s.studyId, id, s.randomization, s.death});
        }
    }

    std::unordered_map<std::pair<std::string, std::string>, ReadBuilder, KeyHash> reads;

    // TU.csv
    {
        Table& t = tuT;
        std::string subject, lastEvaluator;
        auto subj = subjects.end();
        ReadBuilder* last = nullptr; // rows of one read usually follow each other
        while (t.next()) {
            if (subject != t[uSubj] || subj == subjects.end()) {
                subject = t[uSubj];
                subj = subjects.find(subject);
                last = nullptr;
            }
            if (subj == subjects.end()) {
                t.error("UNKNOWN_SUBJECT", "subject " + subject + " is not in " + files.subjName);
                continue;
            }
            Lesion l;
            l.id = std::string(t[uId]);
            l.location = std::string(t[uLoc]);
            l.nodal = isNodal(l.location);
            l.sourceLine = t.line();
            const std::string_view role = t[uRole];
            bool ok = true;
            if (iequals(role, "TARGET"))
                l.role = LesionRole::Target;
            else if (iequals(role, "NON-TARGET"))
                l.role = LesionRole::NonTarget;
            else if (iequals(role, "NEW"))
                l.role = LesionRole::New;
            else {
                t.error("BAD_VALUE", "TUORRES '" + std::string(t[uRole]) + "' is not TARGET, NON-TARGET or NEW");
                ok = false;
            }
            if (!VisitNum::parse(t[uVisitNum], l.identifiedAt)) {
                t.error("BAD_VISITNUM", "VISITNUM '" + std::string(t[uVisitNum]) + "' is not a number");
                ok = false;
            }
            if (!t[uDate].empty()) {
                Date d;
                if (Date::parse(t[uDate], d))
                    l.identifiedOn = d;
                else {
                    t.error("BAD_DATE", "TUDTC '" + std::string(t[uDate]) + "' is not a YYYY-MM-DD date");
                    ok = false;
                }
            }
            if (!last || lastEvaluator != t[uEvalId]) {
                lastEvaluator = t[uEvalId];
                last = &reads[{subject, lastEvaluator}];
            }
            const std::string& evaluator = lastEvaluator;
            ReadBuilder& rb = *last;
            if (rb.read.subjectId.empty()) {
                rb.read.studyId = subj->second.studyId.empty() ? std::string(t[uStudy]) : subj->second.studyId;
                rb.read.subjectId = subject;
                rb.read.evaluator = evaluator;
                rb.read.randomization = subj->second.randomization;
                rb.read.death = subj->second.death;
            }
            if (rb.lesion(l.id) || rb.badLesions.count(l.id)) {
                t.error("DUPLICATE_RECORD", "lesion " + l.id + " of " + subject + " (" + evaluator + ") is identified twice");
                continue;
            }
            if (!ok) {
                rb.badLesions.insert(l.id);
                continue;
            }
            rb.read.lesions.push_back(std::move(l));
        }
    }

    // TR.csv
    {
        Table& t = trT;
        ReadBuilder* cached = nullptr; // rows of one read usually follow each other
        std::string cachedSubject, cachedEvaluator;
        bool cachedSubjectKnown = false;
        std::string lastVisitText, lastDateText;
        VisitNum lastVisit;
        Date lastDate;
        while (t.next()) {
            const std::string_view subject = t[rSubj], evaluator = t[rEvalId], id = t[rId];
            if (cachedSubject != subject || cachedEvaluator != evaluator) {
                cachedSubject = subject;
                cachedEvaluator = evaluator;
                cachedSubjectKnown = subjects.count(cachedSubject) != 0;
                auto it = reads.find({cachedSubject, cachedEvaluator});
                cached = it == reads.end() ? nullptr : &it->second;
            }
            if (!cachedSubjectKnown) {
                t.error("UNKNOWN_SUBJECT", "subject " + cachedSubject + " is not in " + files.subjName);
                continue;
            }
            const Lesion* lesion = cached ? cached->lesion(id) : nullptr;
            if (!lesion && cached && cached->badLesions.count(std::string(id))) continue; // already reported in TU
            if (!lesion) {
                t.error("UNKNOWN_LESION",
                        "lesion " + std::string(id) + " of " + cachedSubject + " (" + cachedEvaluator + ") has no TU record");
                continue;
            }
            // Rows of a visit repeat its number and date: parse each text once.
            VisitNum visit;
            if (t[rVisitNum] == lastVisitText) {
                visit = lastVisit;
            } else if (VisitNum::parse(t[rVisitNum], visit)) {
                lastVisitText = t[rVisitNum];
                lastVisit = visit;
            } else {
                t.error("BAD_VISITNUM", "VISITNUM '" + std::string(t[rVisitNum]) + "' is not a number");
                continue;
            }
            Assessment a;
            a.sourceLine = t.line();
            const std::string_view stat = t[rStat];
            const bool notDone = iequals(stat, "NOT DONE");
            if (!stat.empty() && !notDone) t.error("BAD_VALUE", "TRSTAT '" + std::string(stat) + "' is not empty or NOT DONE");
            if (!t[rDate].empty()) {
                Date d;
                if (t[rDate] == lastDateText) {
                    a.date = lastDate;
                } else if (Date::parse(t[rDate], d)) {
                    a.date = d;
                    lastDateText = t[rDate];
                    lastDate = d;
                } else {
                    t.error("BAD_DATE", "TRDTC '" + std::string(t[rDate]) + "' is not a YYYY-MM-DD date");
                }
            } else if (!notDone) {
                t.error("BAD_DATE", "TRDTC is empty: only a NOT DONE record may lack a date");
            }
            const std::string_view test = t[rTest], res = t[rRes];
            using K = Assessment::Kind;
            if (notDone) {
                a.kind = iequals(t[rReason], "TUMOR MERGED") ? K::Merged : K::NotDone;
            } else if (lesion->role == LesionRole::Target) {
                const std::string_view expected = lesion->nodal ? "SAXIS" : "LDIAM";
                if (!iequals(test, expected) && !(lesion->nodal && iequals(test, "LPERP"))) {
                    t.error("TESTCD_MISMATCH", "TRTESTCD '" + std::string(test) + "' for " + (lesion->nodal ? "nodal" : "non-nodal") +
                                                   " target " + std::string(id) + ": expected " + std::string(expected));
                }
                if (iequals(res, "TOO SMALL TO MEASURE")) {
                    a.kind = K::TooSmall;
                    if (!t[rUnit].empty() && !iequals(t[rUnit], "mm")) {
                        t.error("BAD_UNIT", "unit '" + std::string(t[rUnit]) + "' is not mm");
                    }
                } else if (!Length::parseMm(res, a.value)) {
                    t.error("NON_NUMERIC", "TRORRES '" + std::string(res) + "' is neither a number nor TOO SMALL TO MEASURE");
                } else {
                    a.kind = K::Measured;
                    if (a.value.um < 0) t.error("NEGATIVE_SIZE", "TRORRES " + std::string(res) + " is negative");
                    if (!iequals(t[rUnit], "mm")) t.error("BAD_UNIT", "unit '" + std::string(t[rUnit]) + "' is not mm");
                }
            } else {
                const bool isNew = lesion->role == LesionRole::New;
                if (!iequals(test, "TUMSTATE")) {
                    t.error("TESTCD_MISMATCH", "TRTESTCD '" + std::string(test) + "' for " + (isNew ? "new lesion " : "non-target ") +
                                                   std::string(id) + ": expected TUMSTATE");
                }
                if (iequals(res, "PRESENT"))
                    a.kind = isNew ? K::Unequivocal : K::Present;
                else if (iequals(res, "ABSENT"))
                    a.kind = K::Absent;
                else if (iequals(res, "NOT EVALUABLE"))
                    a.kind = K::NotEvaluable;
                else if (!isNew && iequals(res, "UNEQUIVOCAL PROGRESSION"))
                    a.kind = K::Unequivocal;
                else if (isNew && iequals(res, "UNEQUIVOCAL"))
                    a.kind = K::Unequivocal;
                else if (isNew && iequals(res, "EQUIVOCAL"))
                    a.kind = K::Equivocal;
                else {
                    t.error("BAD_VALUE", "TUMSTATE '" + std::string(res) + "' is not valid for " +
                                             (isNew ? "a new lesion (UNEQUIVOCAL, PRESENT, EQUIVOCAL, ABSENT, NOT EVALUABLE)"
                                                    : "a non-target (PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION, NOT EVALUABLE)"));
                }
            }
            // Recorded even when the row is bad (the run fails anyway) so duplicates show.
            if (!cached->visit(visit, t.line()).add(std::string(id), a)) {
                t.error("DUPLICATE_RECORD", "lesion " + std::string(id) + " is recorded twice at visit " + visit.text());
            }
        }
    }

    // Per read: visit order and baseline rules.
    std::vector<std::pair<const std::pair<std::string, std::string>*, ReadBuilder*>> order;
    order.reserve(reads.size());
    for (auto& [k, rb] : reads) order.emplace_back(&k, &rb);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    in.reads.reserve(order.size());
    for (const auto& [key, builder] : order) {
        const auto& k = *key;
        ReadBuilder& rb = *builder;
        // VISIT_ORDER: a higher visit dated before a lower one.
        std::optional<Date> latest;
        VisitNum latestVisit;
        std::sort(rb.read.visits.begin(), rb.read.visits.end(), [](const Visit& a, const Visit& b) { return a.number < b.number; });
        for (const Visit& visit : rb.read.visits) {
            const VisitNum num = visit.number;
            std::optional<Date> d;
            for (const auto& [id, a] : visit.assessments) {
                if (a.date && (!d || *a.date < *d)) d = a.date;
            }
            if (!d) continue;
            if (latest && *d < *latest) {
                errors.push_back({"VISIT_ORDER", files.trName, visit.sourceLine,
                                  "visit " + num.text() + " of " + k.first + " (" + k.second + ") is dated " + d->iso() +
                                      ", before visit " + latestVisit.text() + " (" + latest->iso() + ")"});
            } else {
                latest = d;
                latestVisit = num;
            }
        }
        for (const Finding& f : validateBaseline(rb.read)) {
            errors.push_back(
                {f.rule, f.inTr ? files.trName : files.tuName, f.sourceLine, f.message + " [" + k.first + ", " + k.second + "]"});
        }
        if (!subjects[k.first].valid) continue;
        in.reads.push_back(std::move(rb.read));
    }
    std::stable_sort(errors.begin(), errors.end(),
                     [](const Error& a, const Error& b) { return a.file != b.file ? a.file < b.file : a.line < b.line; });
    if (!errors.empty()) in.reads.clear();
    return in;
}

void appendCsvField(std::string& out, std::string_view v) {
    bool plain = true;
    for (char c : v) {
        if (c == ',' || c == '"' || c == '\r' || c == '\n') {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

namespace {

void csvField(std::string& out, std::string_view v) { appendCsvField(out, v); }

/// "STUDYID,USUBJID,RSEVALID," of one subject, quoted as needed.
std::string rowPrefix(const SubjectResult& r) {
    std::string p;
    csvField(p, r.studyId);
    p += ',';
    csvField(p, r.subjectId);
    p += ',';
    csvField(p, r.evaluator);
    p += ',';
    return p;
}

/// One RS row: head = "STUDYID,USUBJID,RSEVALID,VISITNUM," and tail = ",RSDTC\n", both
/// built once per visit; only the test code and the value change from row to row.
void row(std::string& out, const std::string& head, std::string_view test, std::string_view value, const std::string& tail) {
    out += head;
    out += test;
    out += ',';
    csvField(out, value);
    out += tail;
}

} // namespace

std::string writeRs(const std::vector<SubjectResult>& results) {
    std::string out = "STUDYID,USUBJID,RSEVALID,VISITNUM,RSTESTCD,RSORRES,RSDTC\n";
    out.reserve(out.size() + results.size() * 3600);
    std::string head, tail;
    char number[40];
    for (const SubjectResult& r : results) {
        const std::string prefix = rowPrefix(r);
        for (const VisitResult& v : r.visits) {
            head = prefix;
            head += v.number.text();
            head += ',';
            tail = ',';
            if (v.date) tail += v.date->iso();
            tail += '\n';
            auto tenths = [&number](std::int64_t t) { return std::string_view(number, writeTenths(t, number)); };
            if (v.baseline) {
                if (r.hasTargets && v.sum) row(out, head, "SUMDIAM", tenths(tenthsOfMm(*v.sum)), tail);
                continue;
            }
            if (v.target) row(out, head, "TRGRESP", toString(*v.target), tail);
            if (v.nonTarget) row(out, head, "NTRGRESP", toString(*v.nonTarget), tail);
            if (v.newLesion) row(out, head, "NEWLIND", toString(*v.newLesion), tail);
            if (v.overall) row(out, head, "OVRLRESP", toString(*v.overall), tail);
            if (v.sum && v.complete) {
                row(out, head, "SUMDIAM", tenths(tenthsOfMm(*v.sum)), tail);
                const Length base = *r.visits.front().sum;
                row(out, head, "PCHGBL", tenths(percentChangeTenths(*v.sum, base)), tail);
                if (v.nadir && v.nadir->um > 0) row(out, head, "PCHGNAD", tenths(percentChangeTenths(*v.sum, *v.nadir)), tail);
            }
        }
        head = prefix;
        head += ',';
        tail = ",\n";
        row(out, head, "BESTRESP", toString(r.best), tail);
        row(out, head, "BRMODE", r.confirmationRequired ? "CONFIRMED" : "UNCONFIRMED", tail);
        row(out, head, "PDDT", r.progression ? r.progression->iso() : "", tail);
        row(out, head, "DCR6M", toString(r.diseaseControl), tail);
    }
    return out;
}

std::string writeAdtte(const std::vector<TimeToEvent>& rows) {
    std::string out = "STUDYID,USUBJID,EVALID,PARAMCD,STARTDT,ADT,AVAL,CNSR,EVNTDESC,CNSDTDSC\n";
    for (const TimeToEvent& t : rows) {
        for (std::string_view v : {std::string_view(t.studyId), std::string_view(t.subjectId), std::string_view(t.evaluator)}) {
            appendCsvField(out, v);
            out += ',';
        }
        out += "RPFS,";
        out += t.start.iso() + "," + t.date.iso() + "," + std::to_string(t.days()) + "," + (t.censored ? "1" : "0") + ",";
        appendCsvField(out, t.censored ? std::string_view() : std::string_view(t.eventDescription));
        out += ',';
        appendCsvField(out, t.censored ? std::string_view(t.censorDescription) : std::string_view());
        out += '\n';
    }
    return out;
}

std::string writeAdrs(const std::vector<SubjectResult>& results) {
    std::string out = "STUDYID,USUBJID,EVALID,PARAMCD,AVALC,ADT,VISITNUM\n";
    for (const SubjectResult& r : results) {
        if (!r.hasBaseline) continue;
        std::string prefix;
        for (std::string_view v : {std::string_view(r.studyId), std::string_view(r.subjectId), std::string_view(r.evaluator)}) {
            appendCsvField(prefix, v);
            prefix += ',';
        }
        for (const VisitResult& v : r.visits) {
            if (v.baseline) continue;
            out += prefix + "OVR,";
            out += v.overall ? std::string(toString(*v.overall)) : std::string();
            out += ',' + (v.date ? v.date->iso() : std::string()) + ',' + v.number.text() + '\n';
        }
        out += prefix + "BOR," + std::string(toString(r.best)) + ",,\n";
    }
    return out;
}

std::string explain(const std::vector<SubjectResult>& results) {
    std::string out;
    for (const SubjectResult& r : results) {
        out += r.subjectId + " (" + r.evaluator + ")\n";
        for (const VisitResult& v : r.visits) {
            const std::string head = "  visit " + v.number.text() + (v.date ? " " + v.date->iso() : "") + "  ";
            if (v.baseline) {
                if (!v.targetReason.empty()) out += head + "BASELINE: " + v.targetReason + "\n";
                continue;
            }
            if (v.target) out += head + "target     " + v.targetReason + "\n";
            if (v.nonTarget) out += head + "non-target " + v.nonTargetReason + "\n";
            if (v.newLesion) out += head + "new        " + v.newLesionReason + "\n";
            if (v.overall) out += head + "overall    " + v.overallReason + "\n";
        }
        out += "  best overall response " + std::string(toString(r.best)) + ": " + r.bestReason + "\n";
        out += "  progression date " + (r.progression ? r.progression->iso() : std::string("none")) + ": " + r.progressionReason + "\n";
        out += "  disease control at the landmark " + r.diseaseControlReason + "\n";
    }
    return out;
}

ChunkSource csvFileChunks(const std::string& path, std::size_t blockBytes) {
    // One buffer of blockBytes + the carried-over partial record; never zero-filled. A piece
    // always ends on a record boundary: a record longer than a block makes the buffer grow.
    struct State {
        std::ifstream in;
        std::unique_ptr<char[]> data;
        std::size_t capacity = 0, size = 0, carryStart = 0, carrySize = 0;
        bool eof = false;
    };
    auto st = std::make_shared<State>();
    st->in.open(path, std::ios::binary);
    if (!st->in) return {};
    return [st, blockBytes](std::string_view& chunk) {
        if (st->eof && st->carrySize == 0) return false;
        // Move the carried partial record to the front.
        if (st->carrySize && st->carryStart) std::memmove(st->data.get(), st->data.get() + st->carryStart, st->carrySize);
        st->size = st->carrySize;
        st->carrySize = 0;
        st->carryStart = 0;
        std::size_t searched = st->size; // line breaks before this were inside quotes or absent
        for (;;) {
            if (!st->eof) {
                if (st->size + blockBytes > st->capacity) { // grow: first block, or a record longer than a block
                    const std::size_t capacity = st->size + blockBytes;
                    std::unique_ptr<char[]> bigger(new char[capacity]);
                    if (st->size) std::memcpy(bigger.get(), st->data.get(), st->size);
                    st->data = std::move(bigger);
                    st->capacity = capacity;
                }
                st->in.read(st->data.get() + st->size, static_cast<std::streamsize>(blockBytes));
                const auto got = static_cast<std::size_t>(st->in.gcount());
                st->size += got;
                if (got < blockBytes) st->eof = true;
            }
            std::string_view text(st->data.get(), st->size);
            if (st->eof) {
                chunk = text;
                return !text.empty();
            }
            // End the piece after the last line break that is not inside quotes (quotes
            // balance from the piece's start, which is a record start).
            auto quotesBefore = [&text](std::size_t end) {
                std::size_t n = 0;
                for (const char* p = text.data();
                     (p = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(text.data() + end - p)))); ++p) {
                    ++n;
                }
                return n;
            };
            // Breaks before `searched` are inside quotes (they were looked at already).
            std::size_t cut = text.rfind('\n');
            while (cut != std::string_view::npos && cut >= searched && quotesBefore(cut) % 2 != 0) {
                cut = cut == 0 ? std::string_view::npos : text.rfind('\n', cut - 1);
            }
            if (cut != std::string_view::npos && cut >= searched) {
                st->carryStart = cut + 1;
                st->carrySize = text.size() - cut - 1;
                chunk = text.substr(0, cut + 1);
                return true;
            }
            searched = text.size(); // no usable break yet: read more
        }
    };
}

Input parseFiles(const std::string& tu, const std::string& tr, const std::string& subjects, const std::string& config) {
    auto slurp = [](const std::string& path, std::string& out) {
        std::ifstream in(path, std::ios::binary);
        if (!in) return false;
        std::ostringstream s;
        s << in.rdbuf();
        out = s.str();
        return true;
    };
    std::string tuText, subjText, configText;
    std::vector<Error> io;
    if (!slurp(tu, tuText)) io.push_back({"IO", tu, 0, "cannot be read"});
    if (!slurp(subjects, subjText)) io.push_back({"IO", subjects, 0, "cannot be read"});
    if (!slurp(config, configText)) io.push_back({"IO", config, 0, "cannot be read"});
    ChunkSource chunks = csvFileChunks(tr);
    if (!chunks) io.push_back({"IO", tr, 0, "cannot be read"});
    if (!io.empty()) {
        Input in;
        in.errors = std::move(io);
        return in;
    }
    Files f;
    f.tuName = tu;
    f.trName = tr;
    f.subjName = subjects;
    f.configName = config;
    f.tu = tuText;
    f.subj = subjText;
    f.config = configText;
    f.trChunks = std::move(chunks);
    return parse(f);
}

} // namespace recist::sdtm
