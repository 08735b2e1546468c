#include "viewerreading/ReadModel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace vr {

using nlohmann::json;

namespace {

/// "32.5": one decimal, as a radiologist reads a caliper.
std::string mmText(double mm) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", std::round(mm * 10.0) / 10.0);
    return buf;
}

} // namespace

const std::vector<std::string>& organs() {
    static const std::vector<std::string> list{"LIVER",
                                               "LUNG",
                                               "PANCREAS",
                                               "SMALL INTESTINE",
                                               "COLON",
                                               "MESENTERY",
                                               "PERITONEUM",
                                               "BONE",
                                               "ADRENAL GLAND",
                                               "KIDNEY",
                                               "SPLEEN",
                                               "OVARY",
                                               "PLEURA",
                                               "SOFT TISSUE",
                                               "BRAIN",
                                               "LYMPH NODE, MESENTERIC",
                                               "LYMPH NODE, RETROPERITONEAL",
                                               "LYMPH NODE, MEDIASTINAL",
                                               "LYMPH NODE, HILAR",
                                               "LYMPH NODE, SUPRACLAVICULAR",
                                               "LYMPH NODE, INGUINAL",
                                               "LYMPH NODE, AXILLARY",
                                               "LYMPH NODE, PELVIC"};
    return list;
}

bool isNodal(const std::string& location) { return location.find("LYMPH NODE") != std::string::npos; }

std::string ReadModel::visitLabelAt(int ordinal) const {
    if (ordinal == ordinal_ && !visit_.empty()) return visit_;
    for (const rq::TimepointRead& tp : earlier_)
        if (tp.ordinal == ordinal && !tp.visit.empty()) return tp.visit;
    return rq::visitLabelOf(charter_, ordinal);
}

ReadModel::ReadModel(charter::Charter charter, std::string subject, rq::SubjectDates dates, std::vector<rq::TimepointRead> earlier,
                     int ordinal, std::string studyDate, const std::string& draftPayload, std::string visitNum, std::string visit)
    : charter_(std::move(charter)), subject_(std::move(subject)), dates_(std::move(dates)), earlier_(std::move(earlier)), ordinal_(ordinal),
      studyDate_(std::move(studyDate)), visitNum_(std::move(visitNum)), visit_(std::move(visit)) {
    for (const rq::TimepointRead& tp : earlier_) {
        Draft d;
        Draft::parse(tp.payload, d);
        earlierDrafts_.push_back(std::move(d));
    }
    std::string error;
    if (!Draft::parse(draftPayload, draft_, &error)) draft_ = Draft(); // the queue only stores JSON; a bad draft starts over
    for (const AnswerEntry& a : draft_.answers)
        if (const vc::Measurement* m = a.measurement ? draft_.measurement(a.measurement) : nullptr; m && a.sliceThickness > 0)
            thickness_[m->seriesUid] = a.sliceThickness;
    evaluate();
}

std::vector<KnownLesion> ReadModel::lesions() const {
    std::vector<KnownLesion> out;
    std::set<std::string> mergedEarlier;
    auto addFrom = [&](const Draft& d, int ord) {
        for (const LesionEntry& l : d.lesions) out.push_back({l.id, l.role, l.location, ord, isNodal(l.location), true});
    };
    for (std::size_t i = 0; i < earlierDrafts_.size(); ++i) {
        addFrom(earlierDrafts_[i], earlier_[i].ordinal);
        for (const AnswerEntry& a : earlierDrafts_[i].answers)
            if (a.result == "NOT DONE" && a.reason == "TUMOR MERGED") mergedEarlier.insert(a.id);
    }
    addFrom(draft_, ordinal_);
    for (KnownLesion& k : out) {
        const bool split = std::any_of(out.begin(), out.end(), [&](const KnownLesion& o) { return o.id.rfind(k.id + ".", 0) == 0; });
        k.answerable = !split && !mergedEarlier.count(k.id);
    }
    return out;
}

std::optional<KnownLesion> ReadModel::lesion(const std::string& id) const {
    for (KnownLesion& k : lesions())
        if (k.id == id) return k;
    return std::nullopt;
}

bool ReadModel::identifiedHere(const std::string& id) const {
    return std::any_of(draft_.lesions.begin(), draft_.lesions.end(), [&](const LesionEntry& l) { return l.id == id; });
}

std::string ReadModel::nextId(const std::string& prefix) const {
    int n = 0;
    for (const KnownLesion& k : lesions()) {
        if (k.id.rfind(prefix, 0) != 0) continue;
        const std::string rest = k.id.substr(prefix.size());
        if (!rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
            n = std::max(n, std::stoi(rest));
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d", n + 1);
    return prefix + buf;
}

std::string ReadModel::addLesion(const std::string& role, const std::string& location) {
    std::string r = role;
    if (!baseline())
        r = "NEW";
    else if (r != "TARGET" && r != "NON-TARGET")
        r = "TARGET";
    const std::string id = nextId(r == "TARGET" ? "T" : r == "NON-TARGET" ? "NT" : "NEW");
    draft_.lesions.push_back({id, r, location});
    evaluate();
    return id;
}

bool ReadModel::setLocation(const std::string& id, const std::string& location, std::string* why) {
    for (LesionEntry& l : draft_.lesions)
        if (l.id == id) {
            l.location = location;
            followCalipers(); // a lesion that became a node is measured by its short axis
            evaluate();
            return true;
        }
    if (why) *why = id + " was identified at an earlier timepoint: its organ is signed";
    return false;
}

bool ReadModel::removeLesion(const std::string& id, std::string* why) {
    if (!identifiedHere(id)) {
        if (why) *why = id + " was identified at an earlier timepoint and stays in the read";
        return false;
    }
    std::erase_if(draft_.lesions, [&](const LesionEntry& l) { return l.id == id; });
    std::erase_if(draft_.answers, [&](const AnswerEntry& a) { return a.id == id; });
    for (vc::Measurement& m : draft_.measurements)
        if (m.label == id) m.label.clear();
    evaluate();
    return true;
}

bool ReadModel::setAnswer(const std::string& id, const std::string& result, const std::string& reason, std::string* why) {
    const auto k = lesion(id);
    if (!k) {
        if (why) *why = id + " is not a lesion of this read";
        return false;
    }
    for (vc::Measurement& m : draft_.measurements)
        if (m.label == id && m.kind != vc::Measurement::Kind::Point)
            m.label.clear(); // a state replaces a caliper's value (a point stays: it says where)
    AnswerEntry e{id, result, reason};
    auto it = std::find_if(draft_.answers.begin(), draft_.answers.end(), [&](const AnswerEntry& a) { return a.id == id; });
    if (it != draft_.answers.end())
        *it = e;
    else
        draft_.answers.push_back(e);
    evaluate();
    return true;
}

bool ReadModel::clearAnswer(const std::string& id) {
    const auto n = std::erase_if(draft_.answers, [&](const AnswerEntry& a) { return a.id == id; });
    for (vc::Measurement& m : draft_.measurements)
        if (m.label == id && m.kind != vc::Measurement::Kind::Point) m.label.clear();
    evaluate();
    return n > 0;
}

vc::Measurement ReadModel::giveTo(const std::string& id, const vc::Measurement& m) {
    for (vc::Measurement& other : draft_.measurements)
        if (other.label == id) other.label.clear(); // a lesion has one caliper (or point) at a timepoint
    vc::Measurement copy = m;
    copy.label = id;
    auto existing = std::find_if(draft_.measurements.begin(), draft_.measurements.end(),
                                 [&](const vc::Measurement& o) { return o.id == m.id && o.seriesUid == m.seriesUid; });
    if (existing != draft_.measurements.end()) {
        *existing = copy;
    } else {
        if (draft_.measurement(copy.id)) copy.id = draft_.nextMeasurementId();
        draft_.measurements.push_back(copy);
    }
    return copy;
}

bool ReadModel::measure(const std::string& id, const vc::Measurement& m, double sliceThickness, std::string* why) {
    const auto k = lesion(id);
    if (!k) {
        if (why) *why = id + " is not a lesion of this read";
        return false;
    }
    if (m.kind == vc::Measurement::Kind::Point) {
        // a point says where a non-target or new lesion is; its answer stays the reader's
        if (k->role == "TARGET") {
            if (why) *why = id + " is a target: draw its caliper (M, or N for a lymph node) instead of a point";
            return false;
        }
        giveTo(id, m);
        evaluate();
        return true;
    }
    if (k->role != "TARGET") {
        if (why) *why = id + " is a " + k->role + " lesion: it is not measured - point at it with the point tool (P)";
        return false;
    }
    const bool nodal = k->nodal;
    if (sliceThickness > 0) thickness_[m.seriesUid] = sliceThickness;
    if (nodal && m.kind != vc::Measurement::Kind::Bidimensional) {
        if (why) *why = id + " is a lymph node: measure it with the long + short axis tool (N), its short axis counts";
        return false;
    }
    const vc::Measurement copy = giveTo(id, m);
    const std::string id2 = id;
    std::erase_if(draft_.answers, [&](const AnswerEntry& a) { return a.id == id2; });
    draft_.answers.push_back({id, mmText(nodal ? copy.shortMm() : copy.longMm()), {}, sliceThickness, copy.id});
    evaluate();
    return true;
}

bool ReadModel::split(const std::string& id, int fragments, std::string* why) {
    const auto k = lesion(id);
    if (!k || k->role != "TARGET" || baseline()) {
        if (why) *why = "only a target can split, after the baseline";
        return false;
    }
    if (fragments < 2) fragments = 2;
    const std::string location = k->location;
    clearAnswer(id);
    for (int i = 1; i <= fragments; ++i) {
        const std::string f = id + "." + std::to_string(i);
        if (!lesion(f)) draft_.lesions.push_back({f, "TARGET", location});
    }
    evaluate();
    return true;
}

bool ReadModel::merge(const std::string& a, const std::string& b, std::string* why) {
    const auto ka = lesion(a);
    const std::string locationA = ka ? ka->location : std::string();
    const auto kb = lesion(b);
    if (!ka || !kb || baseline() || a == b) {
        if (why) *why = "two different targets merge, after the baseline";
        return false;
    }
    if (kb->role != "TARGET") {
        if (why) *why = b + " is not a target";
        return false;
    }
    const std::string merged = a + "/" + b;
    if (!lesion(merged)) draft_.lesions.push_back({merged, "TARGET", locationA});
    setAnswer(a, "NOT DONE", "TUMOR MERGED");
    setAnswer(b, "NOT DONE", "TUMOR MERGED");
    return true;
}

void ReadModel::syncMeasurements(const std::string& seriesUid, const std::vector<vc::Measurement>& view) {
    std::vector<vc::Measurement> kept;
    for (const vc::Measurement& m : draft_.measurements)
        if (m.seriesUid != seriesUid) kept.push_back(m);
    for (const vc::Measurement& m : view) kept.push_back(m);
    draft_.measurements = std::move(kept);
    followCalipers();
    evaluate();
}

void ReadModel::followCalipers() {
    for (AnswerEntry& a : draft_.answers) {
        if (!a.measurement) continue;
        const vc::Measurement* m = draft_.measurement(a.measurement);
        const auto k = lesion(a.id);
        // its caliper was deleted, or a long-axis caliper cannot measure a node: to be answered again
        if (!m || m->label != a.id || !k || (k->nodal && m->kind != vc::Measurement::Kind::Bidimensional)) {
            a.result.clear();
            a.measurement = 0;
            continue;
        }
        a.result = mmText(k->nodal ? m->shortMm() : m->longMm());
    }
    std::erase_if(draft_.answers, [](const AnswerEntry& a) { return a.result.empty(); });
    for (const vc::Measurement& m : draft_.measurements) {
        if (m.label.empty() || draft_.answer(m.label)) continue;
        const auto k = lesion(m.label);
        if (!k || k->role != "TARGET" || !k->answerable || (k->nodal && m.kind != vc::Measurement::Kind::Bidimensional)) continue;
        const auto t = thickness_.find(m.seriesUid);
        draft_.answers.push_back({m.label, mmText(k->nodal ? m.shortMm() : m.longMm()), {}, t != thickness_.end() ? t->second : 0.0, m.id});
    }
}

std::optional<vc::Measurement> ReadModel::lastMeasurement(const std::string& id, int throughOrdinal) const {
    auto find = [&](const Draft& d) -> std::optional<vc::Measurement> {
        // a split fragment or merged lesion falls back to its parent's caliper
        for (const vc::Measurement& m : d.measurements)
            if (m.label == id) return m;
        return std::nullopt;
    };
    if (throughOrdinal >= ordinal_)
        if (auto m = find(draft_)) return m;
    for (std::size_t i = earlierDrafts_.size(); i-- > 0;) {
        if (earlier_[i].ordinal > throughOrdinal) continue;
        if (auto m = find(earlierDrafts_[i])) return m;
    }
    const auto dot = id.find_first_of("./");
    if (dot != std::string::npos) return lastMeasurement(id.substr(0, dot), throughOrdinal);
    return std::nullopt;
}

void ReadModel::evaluate() {
    evaluation_ = Evaluation();
    std::vector<rq::TimepointRead> tps = earlier_;
    tps.push_back({ordinal_, studyDate_, draft_.toJson(), visitNum_, visit_});
    evaluation_.problems = rq::checkTimepoint(tps);
    rq::Evaluation ev =
        rq::evaluateRead(charter_, subject_, "RADIOLOGIST", dates_, tps, recist::ReasonDates::DaysFromBaseline); // a reader sees no date
    const bool incomplete = !evaluation_.problems.empty();
    for (rq::ReadProblem& p : ev.problems) {
        if (incomplete && p.rule == "INCOMPLETE") continue; // said already, lesion by lesion
        evaluation_.problems.push_back(std::move(p));
    }
    evaluation_.result = std::move(ev.result);
}

} // namespace vr
