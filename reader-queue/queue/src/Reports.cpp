// Subjects' dates and closing, the reader's own read, and the manager's reports: turnaround,
// readers' statistics and the CDISC SDTM export.
#include "readerqueue/Adam.h"
#include "readerqueue/Queue.h"

#include "States.h"

#include "read/Payload.h"
#include "recist/Csv.h"
#include "recist/Sdtm.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <climits>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace rq {

namespace fs = std::filesystem;
using workflow::Role;

namespace {

/// RFC 4180 records of a small CSV text (quoted fields may hold commas and line breaks).
/// Records of a CSV text with the physical line each starts on (the project's one CSV reader).
std::vector<std::vector<std::string>> csvRecords(const std::string& text, std::vector<int>& lines) {
    std::vector<std::vector<std::string>> out;
    recist::csv::Reader reader(text);
    std::vector<std::string_view> fields;
    int line = 0;
    while (reader.next(fields, line)) {
        out.emplace_back(fields.begin(), fields.end());
        lines.push_back(line);
    }
    return out;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return s;
}

/// Seconds since the epoch of a utcNow() time stamp; -1 if it is not one.
double epochOf(const std::string& t) {
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                    &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<double>(timegm(&tm)) + ms / 1000.0;
}

double percentileOf(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // nearest rank
    const std::size_t rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p * static_cast<double>(v.size()))));
    return v[std::min(v.size(), rank) - 1];
}

/// Writes a file durably under a temporary name, then renames it into place.
void writeAtomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw DbError(tmp.string() + ": cannot write");
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) {
            ::close(fd);
            throw DbError(tmp.string() + ": write failed");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) throw DbError(tmp.string() + ": cannot flush");
    fs::rename(tmp, path);
}

/// RS text without its header, each row with ",<flag>" appended.
std::string rsRowsWithFlag(const std::string& rs, const std::string& flag) {
    std::string out;
    std::size_t pos = rs.find('\n');
    if (pos == std::string::npos) return out;
    ++pos;
    while (pos < rs.size()) {
        std::size_t end = rs.find('\n', pos);
        if (end == std::string::npos) end = rs.size();
        out.append(rs, pos, end - pos);
        out += "," + flag + "\n";
        pos = end + 1;
    }
    return out;
}

std::string quoteCsv(const std::string& v) {
    std::string out;
    recist::sdtm::appendCsvField(out, v);
    return out;
}

} // namespace

// subjects --------------------------------------------------------------------------------------

int Queue::loadSubjectDates(const Session& manager, const fs::path& csv) {
    require(manager, {Role::Manager}, "load subject dates");
    std::ifstream in(csv, std::ios::binary);
    if (!in) throw Refused("NO_FILE", csv.string() + ": cannot read");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<int> lines;
    const auto records = csvRecords(text.str(), lines);
    const std::string name = csv.filename().string();
    if (records.empty()) throw Refused("BAD_CSV", name + ": empty file");
    std::map<std::string, int> col;
    for (std::size_t i = 0; i < records[0].size(); ++i) col[upper(records[0][i])] = static_cast<int>(i);
    std::vector<std::string> problems;
    for (const char* required : {"USUBJID", "RANDDT"})
        if (!col.count(required)) problems.push_back(name + ":1: no " + std::string(required) + " column");
    struct Row {
        std::string subject, rand, death;
    };
    std::vector<Row> rows;
    std::set<std::string> seen;
    const bool headerOk = problems.empty(); // every bad row is reported, not only the first
    for (std::size_t r = 1; headerOk && r < records.size(); ++r) {
        const auto& rec = records[r];
        const std::string where = name + ":" + std::to_string(lines[r]) + ": ";
        auto get = [&](const char* c) -> std::string {
            const auto it = col.find(c);
            return it == col.end() || static_cast<std::size_t>(it->second) >= rec.size() ? std::string()
                                                                                         : rec[static_cast<std::size_t>(it->second)];
        };
        Row row{get("USUBJID"), get("RANDDT"), get("DTHDT")};
        recist::Date d;
        if (col.count("STUDYID") && get("STUDYID") != charter_.trial.studyId)
            problems.push_back(where + "STUDYID " + get("STUDYID") + " is not this trial's (" + charter_.trial.studyId + ")");
        if (row.subject.empty())
            problems.push_back(where + "empty USUBJID");
        else if (!seen.insert(row.subject).second)
            problems.push_back(where + row.subject + " appears twice");
        if (!recist::Date::parse(row.rand, d)) problems.push_back(where + "RANDDT '" + row.rand + "' is not a YYYY-MM-DD date");
        if (!row.death.empty() && !recist::Date::parse(row.death, d))
            problems.push_back(where + "DTHDT '" + row.death + "' is not a YYYY-MM-DD date");
        rows.push_back(std::move(row));
    }
    if (!problems.empty()) {
        std::string all;
        for (const auto& p : problems) all += "\n  " + p;
        refuse(manager, "load subject dates", "file:" + name, "BAD_CSV",
               name + ": nothing loaded (" + std::to_string(problems.size()) + " problem" + (problems.size() == 1 ? "" : "s") + "):" + all);
    }
    int changed = 0;
    db_->write([&] {
        for (const Row& r : rows) {
            const auto old = db_->query("SELECT randomization_date, death_date FROM subjects WHERE pseudonym = ?", {r.subject});
            if (old.empty()) {
                db_->exec("INSERT INTO subjects (pseudonym, registered_at, randomization_date, death_date) VALUES (?, ?, ?, ?)",
                          {r.subject, utcNow(), r.rand, r.death});
            } else if (old[0][0] == r.rand && old[0][1] == r.death) {
                continue;
            } else {
                db_->exec("UPDATE subjects SET randomization_date = ?, death_date = ? WHERE pseudonym = ?", {r.rand, r.death, r.subject});
            }
            record(manager.user, "subject.dates", "subject:" + r.subject,
                   old.empty() ? std::string() : "RANDDT " + old[0][0] + " DTHDT " + old[0][1], "RANDDT " + r.rand + " DTHDT " + r.death,
                   "loaded from " + name);
            ++changed;
        }
    });
    return changed;
}

void Queue::closeSubject(const Session& manager, const std::string& subject, const std::string& reason) {
    require(manager, {Role::Manager}, "close a subject's reading");
    audited(manager, "close a subject's reading", "subject:" + subject, [&] {
        const auto rows = db_->query("SELECT reading_closed_at FROM subjects WHERE pseudonym = ?", {subject});
        if (rows.empty()) throw Refused("NO_SUBJECT", subject + " is not registered");
        if (!rows[0][0].empty()) throw Refused("CLOSED", subject + "'s reading was closed on " + rows[0][0]);
        if (reason.find_first_not_of(" \t") == std::string::npos)
            throw Refused("REASON_REQUIRED", "closing a subject's reading needs a reason");
        db_->exec("UPDATE subjects SET reading_closed_at = ?, close_reason = ? WHERE pseudonym = ?", {utcNow(), reason, subject});
        record(manager.user, "subject.close", "subject:" + subject, {}, "closed", reason);
        evaluateAdjudication(subject);
    });
}

std::vector<Queue::VisibleTimepoint> Queue::visibleTimepoints(const Session& who, const std::string& subject) {
    int through = 0; // the last ordinal the caller may see; INT_MAX: all
    if (who.role == Role::Reader) {
        const int slot = ownSlot(who, subject, "see a subject's images");
        for (const auto& r : db_->query("SELECT ordinal, state FROM reads WHERE subject = ? AND slot = ? ORDER BY ordinal",
                                        {subject, std::to_string(slot)})) {
            if (r[1] == "waiting") break; // not offered yet: its images stay unseen
            through = std::stoi(r[0]);
            if (r[1] != "signed") break; // the one they read next, nothing after it
        }
    } else if (who.role == Role::Adjudicator) {
        const auto r = db_->query("SELECT COALESCE(MAX(through_ordinal), 0) FROM adjudications WHERE subject = ? AND adjudicator = ?",
                                  {subject, who.user});
        through = r.empty() ? 0 : std::stoi(r[0][0]);
        if (through == 0) refuse(who, "see a subject's images", "subject:" + subject, "ROLE", "this subject's adjudication is not yours");
    } else if (who.role == Role::Manager || who.role == Role::Administrator || who.role == Role::DataManager) {
        through = INT_MAX;
    } else {
        refuse(who, "see a subject's images", "subject:" + subject, "ROLE", "this role sees no images");
    }
    std::vector<VisibleTimepoint> out;
    for (const auto& t : db_->query("SELECT ordinal, visit_label, visit_num, study_date, visit_id FROM timepoints WHERE subject = ? AND "
                                    "ordinal <= ? ORDER BY ordinal",
                                    {subject, std::to_string(through)})) {
        const int ordinal = std::stoi(t[0]);
        VisibleTimepoint v{
            ordinal, t[1].empty() ? visitLabelOf(charter_, ordinal) : t[1], t[2].empty() ? visitNumOf(charter_, ordinal) : t[2], t[4], t[3],
            {}};
        for (const auto& f :
             db_->query("SELECT store_path FROM timepoint_studies WHERE subject = ? AND ordinal = ? ORDER BY store_path", {subject, t[0]}))
            v.folders.push_back(f[0]);
        out.push_back(std::move(v));
    }
    return out;
}

Queue::OwnRead Queue::ownRead(const Session& reader, const std::string& subject) {
    const int slot = ownSlot(reader, subject, "open a read");
    OwnRead out;
    out.subject = subject;
    out.dates = datesOf(subject);
    for (const auto& r : db_->query("SELECT r.ordinal, t.study_date, r.state, r.draft, r.result, t.visit_num, t.visit_label FROM reads r "
                                    "JOIN timepoints t ON t.subject = r.subject AND t.ordinal = r.ordinal "
                                    "WHERE r.subject = ? AND r.slot = ? ORDER BY r.ordinal",
                                    {subject, std::to_string(slot)})) {
        const int ordinal = std::stoi(r[0]);
        out.timepoints.push_back({ordinal, r[6].empty() ? visitLabelOf(charter_, ordinal) : r[6], r[1], r[2], r[3], r[4],
                                  r[5].empty() ? visitNumOf(charter_, ordinal) : r[5]});
    }
    return out;
}

// reports ---------------------------------------------------------------------------------------

std::vector<Queue::Stage> Queue::turnaround(const Session& manager) {
    require(manager, {Role::Manager}, "see turnaround times");
    auto hours = [](const std::string& from, const std::string& to) {
        const double a = epochOf(from), b = epochOf(to);
        return a < 0 || b < 0 ? -1.0 : (b - a) / 3600.0;
    };
    auto stage = [](std::string name, const std::vector<double>& v) {
        return Stage{std::move(name), static_cast<int>(v.size()), percentileOf(v, 0.5), percentileOf(v, 0.9)};
    };
    std::vector<double> qc, read, both, adjudicated, total;
    for (const auto& r : db_->query("SELECT registered_at, qc_at FROM timepoints WHERE qc_at IS NOT NULL"))
        if (const double h = hours(r[0], r[1]); h >= 0) qc.push_back(h);
    for (const auto& r :
         db_->query("SELECT t.qc_at, r.signed_at FROM reads r JOIN timepoints t ON t.subject = r.subject AND t.ordinal = r.ordinal "
                    "WHERE r.state = 'signed' AND t.qc_at IS NOT NULL"))
        if (const double h = hours(r[0], r[1]); h >= 0) read.push_back(h);
    for (const auto& r : db_->query("SELECT t.qc_at, MAX(r.signed_at), t.registered_at FROM reads r "
                                    "JOIN timepoints t ON t.subject = r.subject AND t.ordinal = r.ordinal "
                                    "WHERE t.qc_at IS NOT NULL GROUP BY r.subject, r.ordinal, t.qc_at, t.registered_at "
                                    // the bound value is text: compared as a number (SQLite compared 2 with '2' as unequal)
                                    "HAVING SUM(CASE WHEN r.state = 'signed' THEN 1 ELSE 0 END) = CAST(? AS INTEGER)",
                                    {std::to_string(readersPerSubject_)})) {
        if (const double h = hours(r[0], r[1]); h >= 0) both.push_back(h);
        if (const double h = hours(r[2], r[1]); h >= 0) total.push_back(h);
    }
    for (const auto& r : db_->query("SELECT opened_at, decided_at FROM adjudications WHERE state = 'decided' AND opened_at IS NOT NULL"))
        if (const double h = hours(r[0], r[1]); h >= 0) adjudicated.push_back(h);
    return {stage("received -> QC", qc), stage("QC -> read signed (each reader)", read), stage("QC -> both reads signed", both),
            stage("received -> both reads signed", total), stage("adjudication opened -> decided", adjudicated)};
}

std::vector<Queue::ReaderStats> Queue::readers(const Session& manager) {
    require(manager, {Role::Manager}, "see reader statistics");
    std::map<std::string, ReaderStats> by;
    for (const auto& r : db_->query("SELECT name FROM users WHERE role = 'reader' ORDER BY name")) by[r[0]].reader = r[0];
    for (const auto& r : db_->query("SELECT reader, COUNT(*) FROM assignments GROUP BY reader")) by[r[0]].subjects = std::stoi(r[1]);
    for (const auto& r : db_->query("SELECT reader, state, COUNT(*) FROM reads GROUP BY reader, state")) {
        ReaderStats& s = by[r[0]];
        if (r[1] == "signed")
            s.signedReads += std::stoi(r[2]);
        else if (r[1] != "waiting")
            s.pendingReads += std::stoi(r[2]);
    }
    // per subject: evaluated at all, ever adjudicated (open or decided), and the latest decision
    std::map<std::string, std::pair<bool, int>> subjects; // subject -> (adjudicated, chosen slot of the latest decision)
    for (const auto& r : db_->query("SELECT subject, state, COALESCE(chosen_slot, 0) FROM adjudications ORDER BY subject, round")) {
        auto& s = subjects[r[0]];
        if (r[1] == "open" || r[1] == "decided") s.first = true;
        if (r[1] == "decided") s.second = std::stoi(r[2]);
    }
    std::map<std::string, int> evaluated, opened; // reader -> subjects evaluated / ever sent to adjudication
    for (const auto& a : db_->query("SELECT subject, slot, reader FROM assignments")) {
        const auto it = subjects.find(a[0]);
        if (it == subjects.end()) continue;
        ReaderStats& s = by[a[2]];
        ++evaluated[a[2]];
        if (it->second.first) ++opened[a[2]];
        if (it->second.second != 0) {
            ++s.adjudicatedSubjects;
            if (it->second.second == std::stoi(a[1])) ++s.chosen;
        }
    }
    // how their signed calipers were made (the payload's origin)
    for (const auto& r : db_->query("SELECT reader, draft FROM reads WHERE state = 'signed'")) {
        rq::Payload p;
        if (!rq::Payload::parse(r[1], p)) continue;
        ReaderStats& s = by[r[0]];
        for (const rq::Caliper& c : p.measurements) {
            if (c.kind == rq::Caliper::Kind::Point) continue;
            if (c.origin == rq::Caliper::Origin::Proposed)
                ++s.proposalsAccepted;
            else if (c.origin == rq::Caliper::Origin::ProposedEdited)
                ++s.proposalsEdited;
            else
                ++s.manualCalipers;
        }
    }
    std::vector<ReaderStats> out;
    for (auto& [name, s] : by) {
        s.reader = name;
        s.adjudicationRate = evaluated[name] ? static_cast<double>(opened[name]) / evaluated[name] : 0;
        s.selectionRate = s.adjudicatedSubjects ? static_cast<double>(s.chosen) / s.adjudicatedSubjects : 0;
        out.push_back(s);
    }
    return out;
}

std::vector<Queue::SubjectRead> Queue::subjectReads(const Session& manager, const std::string& subject) {
    require(manager, {Role::Manager}, "see a subject's reads");
    std::vector<SubjectRead> out;
    for (const auto& r : db_->query("SELECT slot, ordinal, state FROM reads WHERE subject = ? ORDER BY slot, ordinal", {subject}))
        out.push_back({std::stoi(r[0]), std::stoi(r[1]), r[2]});
    return out;
}

Queue::Acceptance Queue::acceptanceOf(const std::string& subject) {
    // the accepted read: the latest decision, else Reader 1 when the reads need no adjudication
    Acceptance a;
    // An interim "not needed" (the per-timepoint triggers only, while the subject is still being
    // read) accepts nothing: the per-subject triggers can still fire when the reading closes.
    const auto latest =
        db_->query("SELECT state, through_ordinal, final FROM adjudications WHERE subject = ? ORDER BY round DESC LIMIT 1", {subject});
    const auto decided =
        db_->query("SELECT chosen_slot FROM adjudications WHERE subject = ? AND state = 'decided' ORDER BY round DESC LIMIT 1", {subject});
    if (!latest.empty() && (latest[0][0] == "decided" || (latest[0][0] == "not_needed" && latest[0][2] == "1"))) {
        a.slot = decided.empty() ? 1 : std::stoi(decided[0][0]);
        a.through = std::stoi(latest[0][1]);
        a.adjudicated = !decided.empty();
    }
    return a;
}

std::vector<Queue::AcceptedRead> Queue::acceptedResults(const Session& manager) {
    require(manager, {Role::Manager}, "see accepted results");
    std::vector<AcceptedRead> out;
    for (const auto& s : db_->query("SELECT pseudonym, randomization_date, death_date FROM subjects ORDER BY pseudonym")) {
        const Acceptance a = acceptanceOf(s[0]);
        if (a.slot == 0) continue;
        const auto tps = signedTimepoints(s[0], a.slot, a.through);
        const Evaluation ev =
            evaluateRead(charter_, s[0], a.adjudicated ? "ADJUDICATOR" : "RADIOLOGIST " + std::to_string(a.slot), {s[1], s[2]}, tps);
        if (!ev.result) continue;
        AcceptedRead r{s[0], a.adjudicated, *ev.result, std::nullopt};
        recist::Date rand{}, death{};
        if (recist::Date::parse(s[1], rand)) {
            const bool died = !s[2].empty() && recist::Date::parse(s[2], death);
            r.rpfs = recist::rpfs(*ev.result, rand, died ? std::optional<recist::Date>(death) : std::nullopt, charter_.recist);
        }
        out.push_back(std::move(r));
    }
    return out;
}

int Queue::randomizedSubjects(const Session& manager) {
    require(manager, {Role::Manager}, "see accepted results");
    return std::stoi(db_->query("SELECT COUNT(*) FROM subjects WHERE randomization_date IS NOT NULL AND randomization_date <> ''")[0][0]);
}

std::vector<Queue::BacklogPoint> Queue::backlogHistory(const Session& manager) {
    require(manager, {Role::Manager}, "see the backlog");
    // +readers when a timepoint is accepted at QC, +1 signed per signature; adjudications open/close
    std::vector<std::pair<std::string, std::array<int, 3>>> events;
    for (const auto& r : db_->query("SELECT qc_at FROM timepoints WHERE state = 'accepted' AND qc_at IS NOT NULL"))
        events.push_back({r[0], {readersPerSubject_, 0, 0}});
    for (const auto& r : db_->query("SELECT signed_at FROM reads WHERE state = 'signed' AND signed_at IS NOT NULL"))
        events.push_back({r[0], {0, 1, 0}});
    for (const auto& r : db_->query("SELECT opened_at, COALESCE(decided_at, '') FROM adjudications WHERE opened_at IS NOT NULL")) {
        events.push_back({r[0], {0, 0, 1}});
        if (!r[1].empty()) events.push_back({r[1], {0, 0, -1}});
    }
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<BacklogPoint> out;
    BacklogPoint p;
    for (const auto& [at, d] : events) {
        p.at = at;
        p.readsDue += d[0];
        p.readsSigned += d[1];
        p.adjudicationsOpen += d[2];
        if (!out.empty() && out.back().at == at)
            out.back() = p;
        else
            out.push_back(p);
    }
    return out;
}

int Queue::exportSdtm(const Session& manager, const fs::path& dir) {
    require(manager, {Role::Manager}, "export results");
    std::error_code ec;
    fs::create_directories(dir / "accepted", ec);
    if (ec) throw Refused("NO_FOLDER", dir.string() + ": " + ec.message());
    std::string tu = tuHeader(), tr = trHeader(), rs = "STUDYID,USUBJID,RSEVALID,VISITNUM,RSTESTCD,RSORRES,RSDTC,RSACPTFL\n";
    std::string atu = tuHeader(), atr = trHeader(), subj = subjectsHeader();
    std::string adj =
        "STUDYID,USUBJID,ROUND,THROUGH_VISITNUM,STATE,FINAL,TRIGGERS,CHOSEN,ADJUDICATOR,RATIONALE,SIGNATURE_MEANING,DECIDED_AT\n";
    std::vector<recist::SubjectResult> accepted, perReader;
    std::vector<recist::TimeToEvent> rpfsPerReader, rpfsAccepted;
    int exported = 0, notAccepted = 0;
    const auto subjects = db_->query("SELECT pseudonym, randomization_date, death_date FROM subjects ORDER BY pseudonym");
    for (const auto& s : subjects) {
        const std::string& subject = s[0];
        const SubjectDates dates{s[1], s[2]};
        if (!dates.randomization.empty()) subj += subjectRow(charter_, subject, dates);
        recist::Date rand{}, death{};
        const bool randomized = recist::Date::parse(dates.randomization, rand);
        const bool died = !dates.death.empty() && recist::Date::parse(dates.death, death);
        auto rpfsOf = [&](const recist::SubjectResult& r) {
            return recist::rpfs(r, rand, died ? std::optional<recist::Date>(death) : std::nullopt, charter_.recist);
        };
        bool anyResult = false;
        const Acceptance acceptance = acceptanceOf(subject);
        const int acceptedSlot = acceptance.slot, through = acceptance.through;
        const std::vector<int> decided = acceptance.adjudicated ? std::vector<int>{acceptedSlot} : std::vector<int>{};
        bool any = false;
        for (int slot = 1; slot <= readersPerSubject_; ++slot) {
            const auto tps = signedTimepoints(subject, slot, INT_MAX);
            if (tps.empty()) continue;
            any = true;
            const std::string evaluator = "RADIOLOGIST " + std::to_string(slot);
            // flags only when the accepted decision covers every timepoint this reader signed
            const bool covered = acceptedSlot != 0 && static_cast<int>(tps.size()) <= through;
            const std::string flag = !covered ? std::string() : (slot == acceptedSlot && decided.empty() ? "Y" : "N");
            const std::string trFlag = !covered ? std::string() : (slot == acceptedSlot ? "Y" : "N");
            const SdtmText t = toSdtm(charter_, subject, evaluator, tps, trFlag);
            tu += t.tu;
            tr += t.tr;
            const Evaluation ev = evaluateRead(charter_, subject, evaluator, dates, tps);
            if (ev.result) {
                rs += rsRowsWithFlag(recist::sdtm::writeRs({*ev.result}), flag);
                perReader.push_back(*ev.result);
                if (randomized) rpfsPerReader.push_back(rpfsOf(*ev.result));
                anyResult = true;
            }
        }
        // a randomized subject nobody has read yet still has its row (contract 7.2, rule 1)
        if (randomized && !anyResult) rpfsPerReader.push_back(recist::rpfsWithoutRead(charter_.trial.studyId, subject, rand));
        if (acceptedSlot != 0) {
            const auto tps = signedTimepoints(subject, acceptedSlot, through);
            const std::string evaluator = decided.empty() ? "RADIOLOGIST " + std::to_string(acceptedSlot) : "ADJUDICATOR";
            const SdtmText t = toSdtm(charter_, subject, evaluator, tps, "Y");
            atu += t.tu;
            atr += t.tr;
            const Evaluation ev = evaluateRead(charter_, subject, evaluator, dates, tps);
            if (ev.result) {
                accepted.push_back(*ev.result);
                if (randomized) rpfsAccepted.push_back(rpfsOf(*ev.result));
                if (!decided.empty()) rs += rsRowsWithFlag(recist::sdtm::writeRs({*ev.result}), "Y");
            }
        }
        if (randomized && acceptedSlot == 0) ++notAccepted;
        for (const auto& a : db_->query(
                 "SELECT round, through_ordinal, state, final, triggers, COALESCE(chosen_slot, 0), COALESCE(adjudicator, ''), "
                 "rationale, COALESCE(signature_meaning, ''), COALESCE(decided_at, '') FROM adjudications WHERE subject = ? ORDER BY round",
                 {subject})) {
            std::string triggers;
            try {
                for (const auto& t : nlohmann::json::parse(a[4]))
                    triggers += (triggers.empty() ? "" : "; ") + t.value("detail", std::string());
            } catch (const nlohmann::json::exception&) {}
            adj += quoteCsv(charter_.trial.studyId) + "," + quoteCsv(subject) + "," + a[0] + "," + visitNumAt(subject, std::stoi(a[1])) +
                   "," + a[2] + "," + (a[3] == "1" ? "Y" : "N") + "," + quoteCsv(triggers) + "," +
                   (a[5] == "0" ? "" : "RADIOLOGIST " + a[5]) + "," + quoteCsv(a[6]) + "," + quoteCsv(a[7]) + "," + quoteCsv(a[8]) + "," +
                   a[9] + "\n";
        }
        exported += any ? 1 : 0;
    }
    writeAtomically(dir / "TU.csv", tu);
    writeAtomically(dir / "TR.csv", tr);
    writeAtomically(dir / "RS.csv", rs);
    writeAtomically(dir / "SUBJ.csv", subj);
    writeAtomically(dir / "config.json", engineConfig(charter_) + "\n");
    writeAtomically(dir / "ADJ.csv", adj);
    writeAtomically(dir / "accepted" / "TU.csv", atu);
    writeAtomically(dir / "accepted" / "TR.csv", atr);
    writeAtomically(dir / "accepted" / "RS.csv", recist::sdtm::writeRs(accepted));
    // the statistician's datasets (ADaM-style, contract section 7): CSV, SAS transport, define.json
    const auto datasets = [&](const fs::path& folder, const std::vector<recist::TimeToEvent>& tte, const std::vector<recist::SubjectResult>& rsp,
                              const std::string& note) {
        const std::string adtte = recist::sdtm::writeAdtte(tte), adrs = recist::sdtm::writeAdrs(rsp);
        writeAtomically(folder / "ADTTE.csv", adtte);
        writeAtomically(folder / "ADRS.csv", adrs);
        adam::writeXpt(folder / "ADTTE.xpt", "ADTTE", "Time to Event: radiological PFS", adam::adtteVariables(), adtte);
        adam::writeXpt(folder / "ADRS.xpt", "ADRS", "Response by central review", adam::adrsVariables(), adrs);
        writeAtomically(folder / "define.json",
                        adam::defineJson(charter_.trial.studyId, charter_.recist.rpfsMaxGapDays, charter_.recist.rpfsDeathIsEvent, note));
    };
    datasets(dir, rpfsPerReader, perReader,
             "Both readers (EVALID RADIOLOGIST 1/2): every signed read; a randomized subject nobody has signed a timepoint of has one "
             "ADTTE row with EVALID empty (rule 1).");
    datasets(dir / "accepted", rpfsAccepted, accepted,
             "The accepted result per subject (the adjudicator's choice, EVALID ADJUDICATOR, or Reader 1 when the reads needed no "
             "adjudication), as accepted/RS.csv. " +
                 std::to_string(notAccepted) + " randomized subject(s) have no accepted result yet and no rows here.");
    db_->write([&] { record(manager.user, "export.sdtm", "folder:" + dir.string(), {}, std::to_string(exported) + " subjects"); });
    return exported;
}

} // namespace rq
