#include "readerqueue/ReadData.h"

#include "recist/Sdtm.h"

#include <nlohmann/json.hpp>

#include <algorithm>
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

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return s;
}

struct ParsedLesion {
    std::string id, role, location;
};
struct ParsedAnswer {
    std::string id, result, reason;
    std::string sliceThickness; ///< mm, of the series the viewer measured on (empty: unknown)
};
struct ParsedTimepoint {
    std::vector<ParsedLesion> lesions;
    std::vector<ParsedAnswer> answers;
};

/// Parses one payload; problems name the timepoint and the JSON field.
ParsedTimepoint parsePayload(const TimepointRead& tp, std::vector<ReadProblem>& problems) {
    ParsedTimepoint out;
    const std::string where = "timepoint " + std::to_string(tp.ordinal);
    auto bad = [&](const std::string& m) { problems.push_back({"BAD_PAYLOAD", where + ": " + m}); };
    json j;
    try {
        j = json::parse(tp.payload.empty() ? std::string("{}") : tp.payload);
    } catch (const json::exception& e) {
        bad(std::string("not JSON (") + e.what() + ")");
        return out;
    }
    if (!j.is_object()) return bad("the read is a JSON object"), out;
    auto text = [&](const json& o, const char* key, const std::string& at, bool required) -> std::string {
        if (!o.contains(key)) {
            if (required) bad(at + "." + key + " is missing");
            return {};
        }
        const json& v = o[key];
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number()) return v.dump();
        bad(at + "." + key + " must be text");
        return {};
    };
    if (j.contains("lesions")) {
        if (!j["lesions"].is_array()) bad("lesions must be a list");
        else
            for (std::size_t i = 0; i < j["lesions"].size(); ++i) {
                const json& l = j["lesions"][i];
                const std::string at = "lesions[" + std::to_string(i) + "]";
                if (!l.is_object()) {
                    bad(at + " must be an object");
                    continue;
                }
                ParsedLesion p{text(l, "id", at, true), upper(text(l, "role", at, true)), upper(text(l, "location", at, true))};
                if (p.role != "TARGET" && p.role != "NON-TARGET" && p.role != "NEW")
                    bad(at + ".role is TARGET, NON-TARGET or NEW (not '" + p.role + "')");
                if (p.id.empty() || p.location.empty()) bad(at + " needs an id and a location");
                out.lesions.push_back(std::move(p));
            }
    }
    if (j.contains("assessments")) {
        if (!j["assessments"].is_array()) bad("assessments must be a list");
        else
            for (std::size_t i = 0; i < j["assessments"].size(); ++i) {
                const json& a = j["assessments"][i];
                const std::string at = "assessments[" + std::to_string(i) + "]";
                if (!a.is_object()) {
                    bad(at + " must be an object");
                    continue;
                }
                out.answers.push_back({text(a, "id", at, true), upper(text(a, "result", at, true)), upper(text(a, "reason", at, false)),
                                       text(a, "slice_thickness_mm", at, false)});
            }
    }
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
                problems.push_back({"BAD_PAYLOAD", where + ": " + l.id + " is " + l.role +
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
        const bool split = std::any_of(c.lesions.begin(), c.lesions.end(), [&](const Known& o) { return o.lesion.id.rfind(id + ".", 0) == 0; });
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
    try {
        const json j = json::parse(tps[last].payload.empty() ? std::string("{}") : tps[last].payload);
        if (j.is_object() && j.contains("measurements") && j["measurements"].is_array()) {
            int stray = 0;
            for (const json& m : j["measurements"])
                if (m.is_object() && (!m.contains("lesion") || !m["lesion"].is_string() || m["lesion"].get<std::string>().empty())) ++stray;
            if (stray > 0)
                problems.push_back({"UNASSIGNED_CALIPER", where + ": " + (stray == 1 ? std::string("a caliper measures") : std::to_string(stray) + " calipers measure") +
                                                              " no lesion: select it, then give it to a lesion (U) or delete it (Delete)"});
        }
    } catch (const json::exception&) {
        // said by parsePayload already
    }
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
std::string numOf(const charter::Charter& c, const TimepointRead& tp) { return tp.visitNum.empty() ? visitNumOf(c, tp.ordinal) : tp.visitNum; }
std::string labelOf(const charter::Charter& c, const TimepointRead& tp) { return tp.visit.empty() ? visitLabelOf(c, tp.ordinal) : tp.visit; }
} // namespace

std::string visitNumOf(const charter::Charter& c, int ordinal) {
    return std::to_string(ordinal <= 1 ? c.visits.baselineVisit : c.visits.visitNumOfFollowup(ordinal - 1));
}
std::string visitLabelOf(const charter::Charter& c, int ordinal) {
    return ordinal <= 1 ? c.visits.baselineLabel : c.visits.labelOfFollowup(ordinal - 1);
}

std::string tuHeader() { return "STUDYID,DOMAIN,USUBJID,TUSEQ,TULNKID,TUTESTCD,TUTEST,TUORRES,TULOC,TUEVAL,TUEVALID,VISITNUM,VISIT,TUDTC\n"; }
std::string trHeader() {
    return "STUDYID,DOMAIN,USUBJID,TRSEQ,TRLNKID,TRTESTCD,TRTEST,TRORRES,TRORRESU,TRSTAT,TRREASND,TREVAL,TREVALID,TRACPTFL,"
           "VISITNUM,VISIT,TRDTC\n";
}

namespace {

/// The rows of toSdtm() plus, for each TR/TU line, the timepoint and lesion it came from.
struct Rows {
    std::string tu, tr;
    std::vector<std::string> tuOrigin, trOrigin; ///< index = line - 2
};

Rows rowsOf(const charter::Charter& ch, const std::string& subject, const std::string& evaluator,
            const std::vector<TimepointRead>& tps, const std::string& accepted, std::vector<ReadProblem>& problems) {
    Rows r;
    const Conversion c = convert(tps, problems);
    int tuSeq = 0, trSeq = 0;
    const std::string& study = ch.trial.studyId;
    for (std::size_t i = 0; i < tps.size(); ++i) {
        const TimepointRead& tp = tps[i];
        const std::string visitNum = numOf(ch, tp), visit = labelOf(ch, tp), date = iso(tp.studyDate);
        const std::string where = "timepoint " + std::to_string(tp.ordinal) + " (" + visit + ")";
        for (const ParsedLesion& l : c.parsed[i].lesions) {
            row(r.tu, {study, "TU", subject, std::to_string(++tuSeq), l.id, "TUMIDENT", "Tumor Identification", l.role, l.location,
                       "INDEPENDENT ASSESSOR", evaluator, visitNum, visit, date});
            r.tuOrigin.push_back(where + ", lesion " + l.id);
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
            r.trOrigin.push_back(where + ", lesion " + a.id);
        }
    }
    return r;
}

} // namespace

SdtmText toSdtm(const charter::Charter& c, const std::string& subject, const std::string& evaluator,
                const std::vector<TimepointRead>& tps, const std::string& accepted) {
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
                {"dcr_window_days", o.dcrWindowDays}}
        .dump();
}

Evaluation evaluateRead(const charter::Charter& c, const std::string& subject, const std::string& evaluator,
                        const SubjectDates& dates, const std::vector<TimepointRead>& tps, recist::ReasonDates reasonDates) {
    Evaluation ev;
    if (dates.randomization.empty()) {
        ev.problems.push_back({"NO_RANDOMIZATION_DATE", "the subject has no randomization date yet: the trial manager loads it (reader-queue subjects)"});
        return ev;
    }
    const Rows rows = rowsOf(c, subject, evaluator, tps, {}, ev.problems);
    if (!ev.problems.empty()) return ev;
    const std::string tu = tuHeader() + rows.tu, tr = trHeader() + rows.tr;
    const std::string subj = subjectsHeader() + subjectRow(c, subject, dates), config = engineConfig(c);
    recist::sdtm::Files files;
    files.tu = tu;
    files.tr = tr;
    files.subj = subj;
    files.config = config;
    recist::sdtm::Input in = recist::sdtm::parse(files);
    for (const auto& e : in.errors) {
        std::string where;
        const auto& origin = e.file == files.trName ? rows.trOrigin : rows.tuOrigin;
        if (e.file != files.subjName && e.line >= 2 && static_cast<std::size_t>(e.line - 2) < origin.size())
            where = origin[static_cast<std::size_t>(e.line - 2)] + ": ";
        ev.problems.push_back({e.rule, where + e.message});
    }
    if (!ev.problems.empty()) return ev;
    if (in.reads.size() != 1) {
        ev.problems.push_back({"INCOMPLETE", "the read has no lesions yet"});
        return ev;
    }
    // The slice thickness the viewer measured on is not an SDTM variable: it comes from the
    // payload and tightens the baseline measurability rule (twice the thickness above 5 mm).
    std::vector<ReadProblem> parseProblems;
    const Conversion conv = convert(tps, parseProblems);
    bool thicknessKnown = false;
    for (std::size_t i = 0; i < tps.size(); ++i) {
        recist::VisitNum vn;
        if (!recist::VisitNum::parse(numOf(c, tps[i]), vn)) continue;
        for (recist::Visit& v : in.reads[0].visits) {
            if (v.number != vn) continue;
            for (const ParsedAnswer& a : conv.parsed[i].answers) {
                recist::Length t;
                if (a.sliceThickness.empty() || !recist::Length::parseMm(a.sliceThickness, t) || t.um <= 0) continue;
                if (recist::Assessment* as = v.find(a.id)) {
                    as->sliceThickness = t;
                    thicknessKnown = true;
                }
            }
        }
    }
    if (thicknessKnown) {
        const std::string where = "timepoint 1 (" + (tps.empty() ? visitLabelOf(c, 1) : labelOf(c, tps.front())) + "), lesion ";
        for (const recist::Finding& f : recist::validateBaseline(in.reads[0])) ev.problems.push_back({f.rule, where + f.lesionId + ": " + f.message});
        if (!ev.problems.empty()) return ev;
    }
    in.options.reasonDates = reasonDates;
    ev.result = recist::evaluate(in.reads[0], in.options);
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
                    out.push_back({"different_timepoint_response", "visit " + a.number.text() + ": Reader 1 " + str(*a.overall) +
                                                                       ", Reader 2 " + str(*b.overall)});
        }
    }
    if (!subjectLevel) return out;
    if (t.differentBestOverallResponse && r1.best != r2.best)
        out.push_back({"different_best_overall_response", "best overall response: Reader 1 " + str(r1.best) + ", Reader 2 " + str(r2.best)});
    if (r1.progression && r2.progression) {
        const int days = std::abs(*r1.progression - *r2.progression);
        if (days > t.progressionDateDifferenceDays)
            out.push_back({"progression_date_difference", "progression dates " + std::to_string(days) + " days apart (Reader 1 " +
                                                              r1.progression->iso() + ", Reader 2 " + r2.progression->iso() + "; charter: more than " +
                                                              std::to_string(t.progressionDateDifferenceDays) + ")"});
    } else if (t.progressionInOneReadOnly && (r1.progression || r2.progression)) {
        out.push_back({"progression_in_one_read_only", std::string("progression in Reader ") + (r1.progression ? "1" : "2") +
                                                            "'s read only (" + (r1.progression ? r1.progression : r2.progression)->iso() + ")"});
    }
    if (t.differentDiseaseControlAtLandmark && r1.diseaseControl != r2.diseaseControl)
        out.push_back({"different_disease_control_at_landmark", "disease control at the landmark: Reader 1 " + str(r1.diseaseControl) +
                                                                     ", Reader 2 " + str(r2.diseaseControl)});
    return out;
}

} // namespace rq
