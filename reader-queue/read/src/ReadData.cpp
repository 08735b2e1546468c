#include "read/ReadData.h"
#include "read/Payload.h"

#include "recist/Sdtm.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace rq {

using nlohmann::json;

namespace {

std::string iso(const std::string& yyyymmdd) {
    if (yyyymmdd.size() != 8) return yyyymmdd;
    return yyyymmdd.substr(0, 4) + "-" + yyyymmdd.substr(4, 2) + "-" + yyyymmdd.substr(6, 2);
}

void row(std::string& out, std::initializer_list<std::string> values) {
    bool first = true;
    for (const std::string& v : values) {
        if (!first) out += ',';
        first = false;
        recist::sdtm::appendCsvField(out, v);
    }
    out += '\n';
}

using ParsedLesion = LesionEntry;
using ParsedAnswer = AnswerEntry;
using ParsedTimepoint = Payload;

/// Parses one payload with the one codec (read/Payload.h); problems name the timepoint and the JSON field.
ParsedTimepoint parsePayload(const TimepointRead& tp, std::vector<ReadProblem>& problems) {
    ParsedTimepoint out;
    std::vector<std::string> found;
    Payload::parse(tp.payload, out, nullptr, &found);
    for (const std::string& f : found) problems.push_back({"BAD_PAYLOAD", "timepoint " + std::to_string(tp.ordinal) + ": " + f});
    return out;
}

bool isNodal(const std::string& location) { return location.find("LYMPH NODE") != std::string::npos; }

/// Every lesion of the read so far, with the timepoint it was identified at.
struct Known {
    ParsedLesion lesion;
    int ordinal = 0;
};

struct Conversion {
    std::vector<ParsedTimepoint> parsed;
    std::vector<Known> lesions;
};

Conversion convert(const std::vector<TimepointRead>& tps, std::vector<ReadProblem>& problems) {
    Conversion c;
    for (const TimepointRead& tp : tps) {
        c.parsed.push_back(parsePayload(tp, problems));
        for (const ParsedLesion& l : c.parsed.back().lesions) c.lesions.push_back({l, tp.ordinal});
    }
    return c;
}

const ParsedLesion* findLesion(const Conversion& c, const std::string& id) {
    for (const Known& k : c.lesions)
        if (k.lesion.id == id) return &k.lesion;
    return nullptr;
}

} // namespace

std::vector<ReadProblem> checkTimepoint(const std::vector<TimepointRead>& tps) {
    std::vector<ReadProblem> problems;
    if (tps.empty()) return problems;
    const Conversion c = convert(tps, problems);
    if (!problems.empty()) return problems;
    const std::size_t last = tps.size() - 1;
    const int k = tps[last].ordinal;
    const ParsedTimepoint& now = c.parsed[last];
    const std::string where = "timepoint " + std::to_string(k);
    std::set<std::string> answered;
    for (const ParsedAnswer& a : now.answers) {
        if (!answered.insert(a.id).second) problems.push_back({"BAD_PAYLOAD", where + ": " + a.id + " is answered twice"});
        if (!findLesion(c, a.id)) problems.push_back({"UNKNOWN_LESION", where + ": " + a.id + " is answered but was never identified"});
    }
    if (k == 1) {
        if (now.lesions.empty()) problems.push_back({"INCOMPLETE", where + " (baseline): no lesion identified"});
        for (const ParsedLesion& l : now.lesions)
            if (l.role == "NEW") problems.push_back({"BAD_PAYLOAD", where + " (baseline): " + l.id + " cannot be NEW at baseline"});
    } else {
        for (const ParsedLesion& l : now.lesions) {
            const bool fragment = l.role == "TARGET" && (l.id.find('.') != std::string::npos || l.id.find('/') != std::string::npos);
            if (l.role != "NEW" && !fragment)
                problems.push_back(
                    {"BAD_PAYLOAD",
                     where + ": " + l.id + " is " + l.role +
                         ": after baseline a lesion is NEW, or a TARGET split fragment (T01.1) or coalesced target (T01/T02)"});
        }
    }
    // Which lesions must be answered now: every lesion identified so far, except a target whose
    // split fragments now exist and a parent that merged into a coalesced lesion earlier.
    std::set<std::string> mergedEarlier;
    for (std::size_t i = 0; i < last; ++i)
        for (const ParsedAnswer& a : c.parsed[i].answers)
            if (a.result == "NOT DONE" && a.reason == "TUMOR MERGED") mergedEarlier.insert(a.id);
    std::vector<std::string> missing;
    for (const Known& kl : c.lesions) {
        const std::string& id = kl.lesion.id;
        if (mergedEarlier.count(id)) continue;
        const bool split =
            std::any_of(c.lesions.begin(), c.lesions.end(), [&](const Known& o) { return o.lesion.id.rfind(id + ".", 0) == 0; });
        if (split) continue;
        if (!answered.count(id)) missing.push_back(id);
    }
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        problems.push_back({"INCOMPLETE", where + ": no answer for " + list});
    }
    // a caliper that measures no lesion is a stray stroke or a forgotten answer: it is deleted
    // or given to a lesion before the timepoint is signed
    const int stray =
        static_cast<int>(std::count_if(now.measurements.begin(), now.measurements.end(), [](const Caliper& m) { return m.label.empty(); }));
    if (stray > 0)
        problems.push_back({"UNASSIGNED_CALIPER",
                            where + ": " + (stray == 1 ? std::string("a caliper measures") : std::to_string(stray) + " calipers measure") +
                                " no lesion: select it, then give it to a lesion (U) or delete it (Delete)"});
    for (const ParsedAnswer& a : now.answers) {
        const ParsedLesion* l = findLesion(c, a.id);
        if (!l) continue;
        static const std::set<std::string> nonTarget{"PRESENT", "ABSENT", "UNEQUIVOCAL PROGRESSION", "NOT EVALUABLE", "NOT DONE"};
        static const std::set<std::string> fresh{"UNEQUIVOCAL", "PRESENT", "EQUIVOCAL", "ABSENT", "NOT EVALUABLE", "NOT DONE"};
        bool ok = true;
        if (l->role == "TARGET") {
            recist::Length len;
            ok = a.result == "TOO SMALL TO MEASURE" || a.result == "NOT DONE" || recist::Length::parseMm(a.result, len);
        } else {
            ok = (l->role == "NON-TARGET" ? nonTarget : fresh).count(a.result) > 0;
        }
        if (!ok) problems.push_back({"BAD_VALUE", where + ": " + a.id + " (" + l->role + ") cannot be '" + a.result + "'"});
    }
    return problems;
}

namespace {
std::string numOf(const charter::Charter& c, const TimepointRead& tp) {
    return tp.visitNum.empty() ? visitNumOf(c, tp.ordinal) : tp.visitNum;
}
std::string labelOf(const charter::Charter& c, const TimepointRead& tp) {
    return tp.visit.empty() ? visitLabelOf(c, tp.ordinal) : tp.visit;
}
} // namespace

std::string visitNumOf(const charter::Charter& c, int ordinal) {
    return std::to_string(ordinal <= 1 ? c.visits.baselineVisit : c.visits.visitNumOfFollowup(ordinal - 1));
}
std::string visitLabelOf(const charter::Charter& c, int ordinal) {
    return ordinal <= 1 ? c.visits.baselineLabel : c.visits.labelOfFollowup(ordinal - 1);
}

std::string tuHeader() {
    return "STUDYID,DOMAIN,USUBJID,TUSEQ,TULNKID,TUTESTCD,TUTEST,TUORRES,TULOC,TUEVAL,TUEVALID,VISITNUM,VISIT,TUDTC\n";
}
std::string trHeader() {
    return "STUDYID,DOMAIN,USUBJID,TRSEQ,TRLNKID,TRTESTCD,TRTEST,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,TRACPTFL,"
           "VISITNUM,VISIT,TRDTC\n";
}

namespace {

/// The rows of toSdtm() plus, for each TR/TU line, the timepoint and lesion it came from.
struct Rows {
    std::string tu, tr;
};

Rows rowsOf(const charter::Charter& ch, const std::string& subject, const std::string& evaluator, const std::vector<TimepointRead>& tps,
            const std::string& accepted, std::vector<ReadProblem>& problems) {
    Rows r;
    const Conversion c = convert(tps, problems);
    int tuSeq = 0, trSeq = 0;
    const std::string& study = ch.trial.studyId;
    for (std::size_t i = 0; i < tps.size(); ++i) {
        const TimepointRead& tp = tps[i];
        const std::string visitNum = numOf(ch, tp), visit = labelOf(ch, tp), date = iso(tp.studyDate);
        for (const ParsedLesion& l : c.parsed[i].lesions) {
            row(r.tu, {study, "TU", subject, std::to_string(++tuSeq), l.id, "TUMIDENT", "Tumor Identification", l.role, l.location,
                       "INDEPENDENT ASSESSOR", evaluator, visitNum, visit, date});
        }
        for (const ParsedAnswer& a : c.parsed[i].answers) {
            const ParsedLesion* l = findLesion(c, a.id);
            const bool target = l && l->role == "TARGET";
            const bool nodal = l && isNodal(l->location);
            std::string testcd = target ? (nodal ? "SAXIS" : "LDIAM") : "TUMSTATE";
            std::string test = target ? (nodal ? "Short Axis" : "Longest Diameter") : "Tumor State";
            std::string result = a.result, unit = target ? "mm" : "", stat, reason;
            if (a.result == "NOT DONE") {
                result.clear();
                unit.clear();
                stat = "NOT DONE";
                reason = a.reason.empty() ? "NOT ASSESSED" : a.reason;
            }
            row(r.tr, {study, "TR", subject, std::to_string(++trSeq), a.id, testcd, test, result, unit, stat, reason,
                       "INDEPENDENT ASSESSOR", evaluator, accepted, visitNum, visit, date});
        }
    }
    return r;
}

} // namespace

SdtmText toSdtm(const charter::Charter& c, const std::string& subject, const std::string& evaluator, const std::vector<TimepointRead>& tps,
                const std::string& accepted) {
    std::vector<ReadProblem> ignored;
    Rows r = rowsOf(c, subject, evaluator, tps, accepted, ignored);
    return {std::move(r.tu), std::move(r.tr)};
}

std::string subjectsHeader() { return "STUDYID,USUBJID,RANDDT,DTHDT\n"; }
std::string subjectRow(const charter::Charter& c, const std::string& subject, const SubjectDates& d) {
    std::string out;
    row(out, {c.trial.studyId, subject, d.randomization, d.death});
    return out;
}
std::string engineConfig(const charter::Charter& c) {
    const recist::Options& o = c.recist;
    return json{{"confirmation_required", o.confirmationRequired},
                {"confirmation_min_days", o.confirmationMinDays},
                {"sd_min_days_from_baseline", o.sdMinDaysFromBaseline},
                {"dcr_landmark_days", o.dcrLandmarkDays},
                {"dcr_window_days", o.dcrWindowDays},
                {"rpfs_max_gap_days", o.rpfsMaxGapDays},
                {"rpfs_death_is_event", o.rpfsDeathIsEvent}}
        .dump();
}

std::optional<recist::Read> engineRead(const charter::Charter& ch, const std::string& subject, const std::string& evaluator,
                                       const SubjectDates& dates, const std::vector<TimepointRead>& tps,
                                       std::vector<ReadProblem>& problems) {
    using K = recist::Assessment::Kind;
    const std::size_t before = problems.size();
    const Conversion conv = convert(tps, problems);
    if (problems.size() > before) return std::nullopt;
    recist::Read r;
    r.studyId = ch.trial.studyId;
    r.subjectId = subject;
    r.evaluator = evaluator;
    if (!recist::Date::parse(dates.randomization, r.randomization))
        problems.push_back({"BAD_DATE", "the randomization date '" + dates.randomization + "' is not a YYYY-MM-DD date"});
    if (recist::Date d; !dates.death.empty()) {
        if (recist::Date::parse(dates.death, d))
            r.death = d;
        else
            problems.push_back({"BAD_DATE", "the death date '" + dates.death + "' is not a YYYY-MM-DD date"});
    }
    for (std::size_t i = 0; i < tps.size(); ++i) {
        const TimepointRead& tp = tps[i];
        const std::string where = "timepoint " + std::to_string(tp.ordinal) + " (" + labelOf(ch, tp) + ")";
        recist::VisitNum vn;
        if (!recist::VisitNum::parse(numOf(ch, tp), vn)) {
            problems.push_back({"BAD_VISITNUM", where + ": VISITNUM '" + numOf(ch, tp) + "' is not a number"});
            continue;
        }
        std::optional<recist::Date> date;
        if (recist::Date d; recist::Date::parse(iso(tp.studyDate), d))
            date = d;
        else
            problems.push_back({"BAD_DATE", where + ": the scan date '" + tp.studyDate + "' is not a date"});
        for (const LesionEntry& e : conv.parsed[i].lesions) {
            recist::Lesion l;
            l.id = e.id;
            l.role = e.role == "TARGET"       ? recist::LesionRole::Target
                     : e.role == "NON-TARGET" ? recist::LesionRole::NonTarget
                                              : recist::LesionRole::New;
            l.location = e.location;
            l.nodal = isNodal(e.location);
            l.identifiedAt = vn;
            l.identifiedOn = date;
            if (std::any_of(r.lesions.begin(), r.lesions.end(), [&](const recist::Lesion& o) { return o.id == l.id; }))
                problems.push_back({"DUPLICATE_RECORD", where + ", lesion " + l.id + ": identified twice"});
            else
                r.lesions.push_back(std::move(l));
        }
        recist::Visit* visit = nullptr;
        for (recist::Visit& v : r.visits)
            if (v.number == vn) visit = &v;
        if (!visit) {
            r.visits.push_back({});
            visit = &r.visits.back();
            visit->number = vn;
        }
        for (const AnswerEntry& an : conv.parsed[i].answers) {
            const std::string at = where + ", lesion " + an.id + ": ";
            const auto lesion = std::find_if(r.lesions.begin(), r.lesions.end(), [&](const recist::Lesion& o) { return o.id == an.id; });
            if (lesion == r.lesions.end()) {
                problems.push_back({"UNKNOWN_LESION", at + "answered but never identified"});
                continue;
            }
            recist::Assessment a;
            a.date = date;
            if (an.sliceThickness > 0)
                a.sliceThickness = recist::Length{static_cast<std::int64_t>(std::llround(an.sliceThickness * 1000.0))};
            if (an.result == "NOT DONE") {
                a.kind = an.reason == "TUMOR MERGED" ? K::Merged : K::NotDone;
            } else if (lesion->role == recist::LesionRole::Target) {
                if (an.result == "TOO SMALL TO MEASURE")
                    a.kind = K::TooSmall;
                else if (!recist::Length::parseMm(an.result, a.value))
                    problems.push_back({"NON_NUMERIC", at + "'" + an.result + "' is neither a number nor TOO SMALL TO MEASURE"});
                else {
                    a.kind = K::Measured;
                    if (a.value.um < 0) problems.push_back({"NEGATIVE_SIZE", at + an.result + " is negative"});
                }
            } else {
                const bool isNew = lesion->role == recist::LesionRole::New;
                const std::string& res = an.result;
                if (res == "PRESENT")
                    a.kind = isNew ? K::Unequivocal : K::Present;
                else if (res == "ABSENT")
                    a.kind = K::Absent;
                else if (res == "NOT EVALUABLE")
                    a.kind = K::NotEvaluable;
                else if (!isNew && res == "UNEQUIVOCAL PROGRESSION")
                    a.kind = K::Unequivocal;
                else if (isNew && res == "UNEQUIVOCAL")
                    a.kind = K::Unequivocal;
                else if (isNew && res == "EQUIVOCAL")
                    a.kind = K::Equivocal;
                else
                    problems.push_back({"BAD_VALUE", at + "'" + res + "' is not a state of a " + (isNew ? "new lesion" : "non-target")});
            }
            if (!visit->add(an.id, a)) problems.push_back({"DUPLICATE_RECORD", at + "recorded twice"});
        }
    }
    // a later visit dated before an earlier one
    std::sort(r.visits.begin(), r.visits.end(), [](const recist::Visit& a, const recist::Visit& b) { return a.number < b.number; });
    std::optional<recist::Date> latest;
    recist::VisitNum latestVisit;
    for (const recist::Visit& v : r.visits) {
        std::optional<recist::Date> d;
        for (const auto& [id, a] : v.assessments)
            if (a.date && (!d || *a.date < *d)) d = a.date;
        if (!d) continue;
        if (latest && *d < *latest)
            problems.push_back({"VISIT_ORDER", "visit " + v.number.text() + " is dated " + d->iso() + ", before visit " +
                                                   latestVisit.text() + " (" + latest->iso() + ")"});
        else
            latest = d, latestVisit = v.number;
    }
    const std::string base = "timepoint 1 (" + (tps.empty() ? visitLabelOf(ch, 1) : labelOf(ch, tps.front())) + "), lesion ";
    for (const recist::Finding& f : recist::validateBaseline(r)) problems.push_back({f.rule, base + f.lesionId + ": " + f.message});
    if (problems.size() > before) return std::nullopt;
    return r;
}

Evaluation evaluateRead(const charter::Charter& c, const std::string& subject, const std::string& evaluator, const SubjectDates& dates,
                        const std::vector<TimepointRead>& tps, recist::ReasonDates reasonDates) {
    Evaluation ev;
    if (dates.randomization.empty()) {
        ev.problems.push_back(
            {"NO_RANDOMIZATION_DATE", "the subject has no randomization date yet: the trial manager loads it (reader-queue subjects)"});
        return ev;
    }
    // the engine's typed read, straight from the payloads (no SDTM text on every edit)
    auto read = engineRead(c, subject, evaluator, dates, tps, ev.problems);
    if (!read) return ev;
    if (read->lesions.empty()) {
        ev.problems.push_back({"INCOMPLETE", "the read has no lesions yet"});
        return ev;
    }
    recist::Options options = c.recist;
    options.reasonDates = reasonDates;
    ev.result = recist::evaluate(*read, options);
    return ev;
}

std::string resultJson(const recist::SubjectResult& r) {
    json visits = json::array();
    for (const recist::VisitResult& v : r.visits) {
        json o{{"visitnum", v.number.text()}, {"baseline", v.baseline}, {"complete", v.complete}};
        if (v.date) o["date"] = v.date->iso();
        if (v.sum) o["sum_mm"] = v.sum->formatMm();
        if (v.nadir) o["nadir_mm"] = v.nadir->formatMm();
        if (v.target) o["target"] = {{"response", std::string(recist::toString(*v.target))}, {"reason", v.targetReason}};
        if (v.nonTarget) o["non_target"] = {{"response", std::string(recist::toString(*v.nonTarget))}, {"reason", v.nonTargetReason}};
        if (v.newLesion) o["new_lesions"] = {{"indicator", std::string(recist::toString(*v.newLesion))}, {"reason", v.newLesionReason}};
        if (v.overall) o["overall"] = {{"response", std::string(recist::toString(*v.overall))}, {"reason", v.overallReason}};
        visits.push_back(std::move(o));
    }
    json j{{"evaluator", r.evaluator},
           {"visits", visits},
           {"best_response", {{"response", std::string(recist::toString(r.best))}, {"reason", r.bestReason}}},
           {"progression", {{"date", r.progression ? r.progression->iso() : std::string()}, {"reason", r.progressionReason}}},
           {"disease_control", {{"value", std::string(recist::toString(r.diseaseControl))}, {"reason", r.diseaseControlReason}}}};
    return j.dump();
}

std::vector<ReadProblem> adjudicationTriggers(const charter::AdjudicationTriggers& t, const recist::SubjectResult& r1,
                                              const recist::SubjectResult& r2, bool subjectLevel) {
    std::vector<ReadProblem> out;
    auto str = [](auto v) { return std::string(recist::toString(v)); };
    if (t.differentTimepointResponse) {
        for (const recist::VisitResult& a : r1.visits) {
            if (!a.overall) continue;
            for (const recist::VisitResult& b : r2.visits)
                if (b.number == a.number && b.overall && *b.overall != *a.overall)
                    out.push_back({"different_timepoint_response",
                                   "visit " + a.number.text() + ": Reader 1 " + str(*a.overall) + ", Reader 2 " + str(*b.overall)});
        }
    }
    if (!subjectLevel) return out;
    if (t.differentBestOverallResponse && r1.best != r2.best)
        out.push_back(
            {"different_best_overall_response", "best overall response: Reader 1 " + str(r1.best) + ", Reader 2 " + str(r2.best)});
    if (r1.progression && r2.progression) {
        const int days = std::abs(*r1.progression - *r2.progression);
        if (days > t.progressionDateDifferenceDays)
            out.push_back({"progression_date_difference",
                           "progression dates " + std::to_string(days) + " days apart (Reader 1 " + r1.progression->iso() + ", Reader 2 " +
                               r2.progression->iso() + "; charter: more than " + std::to_string(t.progressionDateDifferenceDays) + ")"});
    } else if (t.progressionInOneReadOnly && (r1.progression || r2.progression)) {
        out.push_back({"progression_in_one_read_only", std::string("progression in Reader ") + (r1.progression ? "1" : "2") +
                                                           "'s read only (" + (r1.progression ? r1.progression : r2.progression)->iso() +
                                                           ")"});
    }
    if (t.differentDiseaseControlAtLandmark && r1.diseaseControl != r2.diseaseControl)
        out.push_back({"different_disease_control_at_landmark",
                       "disease control at the landmark: Reader 1 " + str(r1.diseaseControl) + ", Reader 2 " + str(r2.diseaseControl)});
    return out;
}

} // namespace rq
