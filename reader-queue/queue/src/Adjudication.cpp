// The 2+1 adjudication: the charter's triggers evaluated with the recist engine whenever both
// readers have signed the same timepoints, adjudication rounds claimed by one adjudicator,
// the blinded case (Reader 1 / Reader 2) and the signed decision.
#include "readerqueue/Queue.h"

#include "States.h"
#include "store/Visit.h"

#include <nlohmann/json.hpp>

namespace rq {

using nlohmann::json;
using workflow::Role;

std::vector<TimepointRead> Queue::signedTimepoints(const std::string& subject, int slot, int through) {
    std::vector<TimepointRead> out;
    for (const auto& r : db_->query("SELECT r.ordinal, t.study_date, r.draft, t.visit_num, t.visit_label FROM reads r "
                                    "JOIN timepoints t ON t.subject = r.subject AND t.ordinal = r.ordinal "
                                    "WHERE r.subject = ? AND r.slot = ? AND r.ordinal <= ? AND r.state IN ('signed', 'reopen_requested') "
                                    "ORDER BY r.ordinal",
                                    {subject, std::to_string(slot), std::to_string(through)})) {
        const int ordinal = std::stoi(r[0]);
        if (ordinal != static_cast<int>(out.size()) + 1) break; // signed timepoints are contiguous from the baseline
        out.push_back({ordinal, r[1], r[2], r[3], r[4]});
    }
    return out;
}

std::string Queue::visitNumAt(const std::string& subject, int ordinal) {
    const auto v = db_->query("SELECT visit_num FROM timepoints WHERE subject = ? AND ordinal = ?", {subject, std::to_string(ordinal)});
    return v.empty() || v[0][0].empty() ? visitNumOf(charter_, ordinal) : v[0][0];
}

SubjectDates Queue::datesOf(const std::string& subject) {
    const auto rows = db_->query("SELECT randomization_date, death_date FROM subjects WHERE pseudonym = ?", {subject});
    if (rows.empty()) return {};
    return {rows[0][0], rows[0][1]};
}

void Queue::evaluateAdjudication(const std::string& subject) {
    if (readersPerSubject_ != 2) return; // the 2+1 paradigm compares two reads
    // both readers must have signed exactly the same timepoints (none awaiting a reopen decision)
    int signedCount[3] = {0, 0, 0};
    bool pendingReopen = false;
    for (const auto& r : db_->query("SELECT slot, ordinal, state FROM reads WHERE subject = ? ORDER BY slot, ordinal", {subject})) {
        const int slot = std::stoi(r[0]), ordinal = std::stoi(r[1]);
        if (slot < 1 || slot > 2) continue;
        if (r[2] == "reopen_requested") pendingReopen = true;
        if (r[2] == "signed" && ordinal == signedCount[slot] + 1) signedCount[slot] = ordinal;
    }
    const int through = signedCount[1];
    if (pendingReopen || through == 0 || signedCount[2] != through) return;

    const auto subjectRow = db_->query("SELECT reading_closed_at FROM subjects WHERE pseudonym = ?", {subject});
    bool closed = !subjectRow.empty() && !subjectRow[0][0].empty();
    // the last planned follow-up: by the visit the timepoint is (an unscheduled one does not count)
    bool lastPlanned = through >= 1 + charter_.visits.followups;
    if (const auto v = db_->query("SELECT visit_num FROM timepoints WHERE subject = ? AND ordinal = ?", {subject, std::to_string(through)});
        !v.empty() && !v[0][0].empty()) {
        const auto visit = store::visitOfNum(charter_.visits, v[0][0]);
        lastPlanned = visit && visit->kind == store::Visit::Kind::Scheduled && visit->followup >= charter_.visits.followups;
    }
    if (!closed && lastPlanned) {
        db_->exec("UPDATE subjects SET reading_closed_at = ?, close_reason = ? WHERE pseudonym = ?",
                  {utcNow(), "all planned visits read", subject});
        record("system", "subject.close", "subject:" + subject, {}, "closed", "both readers signed the last planned follow-up");
        closed = true;
    }
    const bool moreToRead = !db_->query("SELECT ordinal FROM timepoints WHERE subject = ? AND ordinal > ? AND state <> 'rejected'",
                                        {subject, std::to_string(through)})
                                 .empty();
    const bool final = closed && !moreToRead;

    const SubjectDates dates = datesOf(subject);
    const Evaluation e1 = evaluateRead(charter_, subject, "RADIOLOGIST 1", dates, signedTimepoints(subject, 1, through));
    const Evaluation e2 = evaluateRead(charter_, subject, "RADIOLOGIST 2", dates, signedTimepoints(subject, 2, through));
    if (!e1.result || !e2.result) {
        // signed reads passed these rules when signed: only changed subject dates can get here
        record("system", "adjudication.not_evaluated", "subject:" + subject, {}, {},
               (e1.problems.empty() ? e2.problems : e1.problems).front().message);
        return;
    }
    const bool bothProgressed = e1.result->progression && e2.result->progression;
    const auto findings = adjudicationTriggers(charter_.reading.triggers, *e1.result, *e2.result, final || bothProgressed);
    json triggers = json::array();
    for (const auto& f : findings) triggers.push_back({{"trigger", f.rule}, {"detail", f.message}});

    const auto latest = db_->query("SELECT round, state, through_ordinal, triggers, final FROM adjudications WHERE subject = ? "
                                   "ORDER BY round DESC LIMIT 1",
                                   {subject});
    int round = 1;
    workflow::AdjudicationState from = workflow::AdjudicationState::AwaitingReads;
    bool fresh = true;
    if (!latest.empty()) {
        if (latest[0][1] == "decided") {
            if (std::stoi(latest[0][2]) >= through) return; // nothing new since the decision
            round = std::stoi(latest[0][0]) + 1;
        } else {
            round = std::stoi(latest[0][0]);
            from = adjStateFrom(latest[0][1]);
            fresh = false;
        }
    }
    workflow::AdjudicationContext c;
    c.actor = Role::Manager;
    c.triggered = !findings.empty();
    const auto t = workflow::next(from, workflow::AdjudicationEvent::ReadsComplete, c);
    if (!t.ok) throw Refused(t.rule, t.message);
    const std::string state = adjStateKey(t.state), now = utcNow();
    const std::string object = "adjudication:" + subject + "/" + std::to_string(round);
    std::string summary;
    for (const auto& f : findings) summary += (summary.empty() ? "" : "; ") + f.message;
    if (fresh) {
        db_->exec("INSERT INTO adjudications (subject, round, state, through_ordinal, final, triggers, evaluated_at, opened_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))",
                  {subject, std::to_string(round), state, std::to_string(through), final ? "1" : "0", triggers.dump(), now,
                   t.state == workflow::AdjudicationState::Open ? now : std::string()});
        record("system", "adjudication.evaluate", object, {}, state + " through T" + std::to_string(through) + (final ? " (final)" : ""),
               summary);
        return;
    }
    const bool changed = latest[0][1] != state || std::stoi(latest[0][2]) != through || latest[0][3] != triggers.dump() ||
                         latest[0][4] != (final ? "1" : "0");
    if (!changed) return;
    db_->exec("UPDATE adjudications SET state = ?, through_ordinal = ?, final = ?, triggers = ?, evaluated_at = ?, "
              "opened_at = CASE WHEN ? = 'open' AND opened_at IS NULL THEN ? WHEN ? <> 'open' THEN NULL ELSE opened_at END, "
              "adjudicator = CASE WHEN ? = 'open' THEN adjudicator ELSE NULL END "
              "WHERE subject = ? AND round = ?",
              {state, std::to_string(through), final ? "1" : "0", triggers.dump(), now, state, now, state, state, subject,
               std::to_string(round)});
    record("system", "adjudication.evaluate", object, latest[0][1] + " through T" + latest[0][2],
           state + " through T" + std::to_string(through) + (final ? " (final)" : ""), summary);
}

namespace {

Queue::AdjudicationItem itemOf(const std::vector<std::string>& r) { return {r[0], std::stoi(r[1]), std::stoi(r[2]), r[3], r[4], r[5]}; }
const char* kItemColumns = "subject, round, through_ordinal, state, COALESCE(adjudicator, ''), triggers";

} // namespace

std::vector<Queue::AdjudicationItem> Queue::adjudicationQueue(const Session& adjudicator) {
    require(adjudicator, {Role::Adjudicator}, "see the adjudication queue");
    std::vector<AdjudicationItem> out;
    for (const auto& r : db_->query(std::string("SELECT ") + kItemColumns +
                                        " FROM adjudications WHERE state = 'open' AND (adjudicator IS NULL OR adjudicator = ?) "
                                        "ORDER BY opened_at, subject LIMIT 200",
                                    {adjudicator.user}))
        out.push_back(itemOf(r));
    return out;
}

std::optional<Queue::AdjudicationItem> Queue::claimAdjudication(const Session& adjudicator, const std::string& subject) {
    require(adjudicator, {Role::Adjudicator}, "claim an adjudication");
    std::optional<AdjudicationItem> claimed;
    audited(adjudicator, "claim an adjudication", subject.empty() ? "adjudication:next" : "adjudication:" + subject, [&] {
        std::string sql = std::string("SELECT ") + kItemColumns + " FROM adjudications WHERE state = 'open' AND adjudicator IS NULL";
        std::vector<std::string> params;
        if (!subject.empty()) {
            const auto mine = db_->query(std::string("SELECT ") + kItemColumns +
                                             " FROM adjudications WHERE subject = ? AND state = 'open' AND adjudicator = ?",
                                         {subject, adjudicator.user});
            if (!mine.empty()) {
                claimed = itemOf(mine[0]);
                return;
            }
            sql += " AND subject = ?";
            params.push_back(subject);
        }
        sql += " ORDER BY opened_at, subject LIMIT 8";
        for (const auto& r : db_->query(sql, params)) {
            // only one claimer changes the row: a concurrent claim sees adjudicator set and moves on
            if (db_->change("UPDATE adjudications SET adjudicator = ?, claimed_at = ? WHERE subject = ? AND round = ? "
                            "AND state = 'open' AND adjudicator IS NULL",
                            {adjudicator.user, utcNow(), r[0], r[1]}) != 1)
                continue;
            claimed = itemOf(r);
            claimed->adjudicator = adjudicator.user;
            record(adjudicator.user, "adjudication.claim", "adjudication:" + r[0] + "/" + r[1], {}, adjudicator.user);
            return;
        }
        if (!subject.empty()) throw Refused("NOT_AVAILABLE", subject + " has no open adjudication that is free to claim");
    });
    return claimed;
}

Queue::AdjudicationCase Queue::adjudicationCase(const Session& adjudicator, const std::string& subject) {
    require(adjudicator, {Role::Adjudicator}, "see an adjudication");
    const auto rows = db_->query(std::string("SELECT ") + kItemColumns +
                                     " FROM adjudications WHERE subject = ? AND adjudicator = ? AND state IN ('open', 'decided') "
                                     "ORDER BY round DESC LIMIT 1",
                                 {subject, adjudicator.user});
    if (rows.empty())
        refuse(adjudicator, "see an adjudication", "subject:" + subject, "NOT_ASSIGNED",
               "the adjudication of " + subject + " is not assigned to you: claim it first");
    AdjudicationCase out;
    out.item = itemOf(rows[0]);
    const SubjectDates dates = datesOf(subject);
    for (int slot = 1; slot <= 2; ++slot) {
        CaseRead r;
        r.label = "Reader " + std::to_string(slot);
        r.timepoints = signedTimepoints(subject, slot, out.item.throughOrdinal);
        const Evaluation ev = evaluateRead(charter_, subject, r.label, dates, r.timepoints);
        if (ev.result) r.result = resultJson(*ev.result);
        out.reads.push_back(std::move(r));
    }
    return out;
}

void Queue::decide(const Session& adjudicator, const std::string& subject, int chosenReader, const std::string& rationale,
                   const std::string& password, const std::string& meaning) {
    require(adjudicator, {Role::Adjudicator}, "decide an adjudication");
    login(adjudicator.user, password); // the signature: the password again
    if (meaning.find_first_not_of(" \t") == std::string::npos)
        refuse(adjudicator, "decide an adjudication", "subject:" + subject, "MEANING_REQUIRED", "a signature states its meaning");
    audited(adjudicator, "decide an adjudication", "subject:" + subject, [&] {
        const auto rows = db_->query("SELECT round, state, COALESCE(adjudicator, ''), through_ordinal FROM adjudications WHERE subject = ? "
                                     "ORDER BY round DESC LIMIT 1",
                                     {subject});
        if (rows.empty()) throw Refused("NO_ADJUDICATION", subject + " has no adjudication");
        workflow::AdjudicationContext c;
        c.actor = adjudicator.role;
        c.actorIsAssignedAdjudicator = rows[0][2] == adjudicator.user;
        c.chosenReader = chosenReader;
        c.rationale = rationale;
        const auto t = workflow::next(adjStateFrom(rows[0][1]), workflow::AdjudicationEvent::Decide, c);
        if (!t.ok) throw Refused(t.rule, t.message);
        // the signature covers the choice, the rationale and both reads as signed
        std::string what = subject + "\n" + rows[0][0] + "\n" + rows[0][3] + "\n" + std::to_string(chosenReader) + "\n" + rationale;
        for (const auto& h :
             db_->query("SELECT slot, ordinal, signed_hash FROM reads WHERE subject = ? AND ordinal <= ? ORDER BY slot, ordinal",
                        {subject, rows[0][3]}))
            what += "\n" + h[0] + "/" + h[1] + ":" + h[2];
        const std::string hash = sha256Hex(what);
        db_->exec(
            "UPDATE adjudications SET state = ?, chosen_slot = ?, rationale = ?, signature_meaning = ?, signed_hash = ?, decided_at = ? "
            "WHERE subject = ? AND round = ?",
            {adjStateKey(t.state), std::to_string(chosenReader), rationale, meaning, hash, utcNow(), subject, rows[0][0]});
        record(adjudicator.user, "adjudication.decide", "adjudication:" + subject + "/" + rows[0][0], rows[0][1],
               "Reader " + std::to_string(chosenReader) + " sha256:" + hash, rationale);
    });
}

} // namespace rq
