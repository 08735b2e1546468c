// RECIST 1.1 evaluation. Design: first resolve the read's structure (baseline visit,
// baseline targets with their split fragments and coalesced groups, non-targets, new
// lesions), then walk the visits in visit-number order computing each target's
// contribution, the sum, the nadir and the per-visit responses, then the per-subject
// results. All threshold arithmetic is on integer micrometres.
#include "recist/Evaluate.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace recist {

std::string_view toString(NewLesionIndicator n) {
    switch (n) {
    case NewLesionIndicator::No: return "N";
    case NewLesionIndicator::Equivocal: return "EQUIVOCAL";
    case NewLesionIndicator::Yes: return "Y";
    }
    return "?";
}

std::string_view toString(DiseaseControl d) {
    switch (d) {
    case DiseaseControl::Yes: return "Y";
    case DiseaseControl::No: return "N";
    case DiseaseControl::NotEvaluable: return "NE";
    }
    return "?";
}

namespace {

constexpr Length k5mm = Length::fromMm(5);
constexpr Length k10mm = Length::fromMm(10);
constexpr Length k15mm = Length::fromMm(15);

bool isChildId(const std::string& id) { return id.find('.') != std::string::npos || id.find('/') != std::string::npos; }

std::vector<std::string> splitIds(const std::string& id, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t pos; (pos = id.find(sep, start)) != std::string::npos; start = pos + 1)
        parts.push_back(id.substr(0, pos).substr(start));
    parts.push_back(id.substr(start));
    return parts;
}

std::string visitLabel(VisitNum v) { return "visit " + v.text(); }

/// Which lesions play which part, decided once per read.
struct Structure {
    bool hasBaseline = false;
    VisitNum baseline;
    std::vector<const Lesion*> targets;    ///< baseline targets, record order
    std::vector<const Lesion*> nonTargets; ///< baseline non-targets
    std::vector<const Lesion*> newLesions;
    std::map<std::string, std::vector<const Lesion*>> fragments; ///< parent id -> fragments (RECIST split)
    std::map<std::string, const Lesion*> coalesced;              ///< member id -> coalesced lesion
};

/// RECIST 1.1 per contract §2: the baseline visit is the smallest visit carrying target or
/// non-target records (split/merged children excluded).
Structure structureOf(const Read& read) {
    Structure s;
    for (const Lesion& l : read.lesions) {
        if (l.role == LesionRole::New || isChildId(l.id)) continue;
        if (!s.hasBaseline || l.identifiedAt < s.baseline) s.baseline = l.identifiedAt;
        s.hasBaseline = true;
    }
    auto isTarget = [&s](const std::string& id) {
        return std::any_of(s.targets.begin(), s.targets.end(), [&id](const Lesion* t) { return t->id == id; });
    };
    for (const Lesion& l : read.lesions) {
        if (l.role == LesionRole::New) {
            s.newLesions.push_back(&l);
            continue;
        }
        if (!s.hasBaseline) continue;
        if (!isChildId(l.id) && l.identifiedAt == s.baseline) {
            if (l.role == LesionRole::Target) {
                s.targets.push_back(&l);
            } else {
                s.nonTargets.push_back(&l);
            }
        }
    }
    for (const Lesion& l : read.lesions) {
        if (l.role != LesionRole::Target || !isChildId(l.id)) continue;
        if (l.id.find('/') != std::string::npos) {
            for (const std::string& member : splitIds(l.id, '/')) {
                if (isTarget(member)) s.coalesced[member] = &l;
            }
        } else {
            const std::string parent = l.id.substr(0, l.id.find('.'));
            if (isTarget(parent)) s.fragments[parent].push_back(&l);
        }
    }
    return s;
}

const Assessment* find(const Visit* v, const std::string& id) { return v ? v->find(id) : nullptr; }

/// A target diameter as it counts in the sum: measured value, or 5 mm for "too small to
/// measure" (RECIST 1.1 §4.3.2); nothing when not assessed.
std::optional<Length> countedValue(const Assessment* a) {
    if (!a) return std::nullopt;
    if (a->kind == Assessment::Kind::Measured) return a->value;
    if (a->kind == Assessment::Kind::TooSmall) return k5mm;
    return std::nullopt;
}

/// One baseline target's contribution at a visit (contract §3.1).
struct Contribution {
    const Lesion* target = nullptr;
    bool known = false;
    Length value;
    bool nodal = false;
    const Lesion* group = nullptr;                         ///< coalesced lesion that gave the value
    std::vector<const Lesion*> const* fragments = nullptr; ///< split fragments that gave the value

    /// Which record(s) gave the value: T01, T01.1+T01.2, T01/T02 (built only for messages).
    std::string source() const {
        if (group) return group->id;
        if (fragments) {
            std::string s;
            for (const Lesion* f : *fragments) s += (s.empty() ? "" : "+") + f->id;
            return s;
        }
        return target->id;
    }
};

/// Fills out (reused across visits) with each baseline target's contribution.
void contributions(const Structure& s, const Visit* visit, bool baseline, std::vector<Contribution>& out) {
    out.clear();
    std::set<const Lesion*> groupsCounted;
    for (const Lesion* t : s.targets) {
        Contribution c;
        c.target = t;
        c.nodal = t->nodal;
        const auto group = baseline || s.coalesced.empty() ? s.coalesced.end() : s.coalesced.find(t->id);
        const auto frags = baseline || s.fragments.empty() ? s.fragments.end() : s.fragments.find(t->id);
        bool split = false;
        if (frags != s.fragments.end()) {
            for (const Lesion* f : frags->second) split = split || f->identifiedAt <= visit->number;
        }
        if (group != s.coalesced.end() && group->second->identifiedAt <= visit->number) {
            // RECIST 1.1 §4.3.2: coalesced lesions - the merged lesion's diameter counts once
            // for the whole group, the other members count 0.
            const Lesion* g = group->second;
            c.group = g;
            c.nodal = g->nodal;
            if (groupsCounted.insert(g).second) {
                if (auto v = countedValue(find(visit, g->id))) {
                    c.known = true;
                    c.value = *v;
                }
            } else {
                c.known = true; // already counted with the first member
                c.nodal = false;
            }
        } else if (split) {
            // RECIST 1.1 §4.3.2: a split lesion's fragments are summed (those seen so far).
            c.known = true;
            c.fragments = &frags->second;
            for (const Lesion* f : frags->second) {
                if (visit->number < f->identifiedAt) continue;
                if (auto v = countedValue(find(visit, f->id))) {
                    c.value = c.value + *v;
                } else {
                    c.known = false;
                }
            }
        } else if (auto v = countedValue(find(visit, t->id))) {
            c.known = true;
            c.value = *v;
        }
        out.push_back(c);
    }
}

/// RECIST 1.1 §4.3.1: PD needs +20 % over the nadir AND +5 mm absolute (both inclusive).
bool meetsProgression(Length sum, Length nadir) {
    return static_cast<__int128>(sum.um) * 10 >= static_cast<__int128>(nadir.um) * 12 && sum - nadir >= k5mm;
}

// Reasons are built on every evaluation (the viewer re-evaluates on each edit), so they
// are assembled without temporaries: cat() sizes the string once and appends each piece;
// numbers are formatted into small stack buffers.
struct Piece {
    char buf[40];
    std::size_t n = 0;
    std::string_view view() const { return {buf, n}; }
};

/// "51.0"
Piece mm(Length l) {
    Piece p;
    p.n = writeTenths(tenthsOfMm(l), p.buf);
    return p;
}

/// "+9.0 mm"
Piece mmDelta(Length d) {
    Piece p;
    if (d.um >= 0) p.buf[p.n++] = '+';
    p.n += writeTenths(tenthsOfMm(d), p.buf + p.n);
    for (char c : std::string_view(" mm")) p.buf[p.n++] = c;
    return p;
}

/// "+21.4 %" (100 (a - b) / b)
Piece pct(Length a, Length b) {
    Piece p;
    if (b.um <= 0) {
        for (char c : std::string_view("n/a")) p.buf[p.n++] = c;
        return p;
    }
    const std::int64_t t = percentChangeTenths(a, b);
    if (t >= 0) p.buf[p.n++] = '+';
    p.n += writeTenths(t, p.buf + p.n);
    for (char c : std::string_view(" %")) p.buf[p.n++] = c;
    return p;
}

std::string_view view(const Piece& p) { return p.view(); }
std::string_view view(std::string_view s) { return s; }
std::string_view view(const std::string& s) { return s; }
std::string_view view(const char* s) { return s; }

template <class... P>
std::string cat(const P&... pieces) {
    std::string s;
    s.reserve((view(pieces).size() + ...));
    (s.append(view(pieces)), ...);
    return s;
}

struct Nadir {
    Length value;
    VisitNum at;
    bool atBaseline = true;
};

std::string nadirText(const Nadir& n) {
    return cat("the nadir ", mm(n.value), " mm (", n.atBaseline ? std::string("baseline") : visitLabel(n.at), ")");
}

bool inSet(Response r, std::initializer_list<Response> set) { return std::find(set.begin(), set.end(), r) != set.end(); }

} // namespace

std::vector<Finding> validateBaseline(const Read& read) {
    std::vector<Finding> findings;
    const Structure s = structureOf(read);
    if (!s.hasBaseline) return findings;
    const Visit* base = nullptr;
    for (const Visit& v : read.visits) {
        if (v.number == s.baseline) base = &v;
    }
    // RECIST 1.1 §4.2: at most 5 targets in total, at most 2 per organ; all lymph nodes
    // together are one organ (FAQ "Two target lesions").
    std::map<std::string, int> perOrgan;
    int total = 0;
    for (const Lesion* t : s.targets) {
        ++total;
        if (total == 6) {
            findings.push_back({"TGT_MAX_TOTAL", t->id, t->sourceLine, false,
                                "more than 5 target lesions at baseline: " + t->id + " is the 6th (RECIST 1.1 §4.2)"});
        }
        const std::string organ = t->nodal ? "LYMPH NODE" : t->location;
        if (++perOrgan[organ] == 3) {
            findings.push_back(
                {"TGT_MAX_PER_ORGAN", t->id, t->sourceLine, false,
                 "more than 2 target lesions in " + organ + ": " + t->id + " is the 3rd (RECIST 1.1 §4.2; all lymph nodes are one organ)"});
        }
    }
    // RECIST 1.1 §3.1: measurable = longest diameter >= 10 mm (or twice the slice thickness
    // when slices are thicker than 5 mm); a nodal target needs a short axis >= 15 mm.
    for (const Lesion* t : s.targets) {
        const Assessment* a = find(base, t->id);
        const int line = a ? a->sourceLine : t->sourceLine;
        const bool inTr = a != nullptr;
        if (!a || a->kind != Assessment::Kind::Measured) {
            const std::string what = !a                                      ? "has no baseline measurement"
                                     : a->kind == Assessment::Kind::TooSmall ? "is too small to measure at baseline"
                                                                             : "was not measured at baseline";
            findings.push_back({"TGT_NOT_MEASURABLE", t->id, line, inTr,
                                "target " + t->id + " " + what + ": a target must be measurable (RECIST 1.1 §3.1)"});
            continue;
        }
        Length minimum = t->nodal ? k15mm : k10mm;
        std::string rule = t->nodal ? "a nodal target needs a short axis >= 15 mm" : "a target needs a longest diameter >= 10 mm";
        if (!t->nodal && a->sliceThickness.um > 5000) {
            minimum = Length{2 * a->sliceThickness.um};
            rule = "with " + a->sliceThickness.formatMm() + " mm slices a target needs >= " + minimum.formatMm() +
                   " mm (twice the slice thickness)";
        }
        if (a->value < minimum) {
            findings.push_back(
                {"TGT_NOT_MEASURABLE", t->id, line, inTr,
                 "target " + t->id + " measures " + a->value.formatMm() + " mm at baseline: " + rule + " (RECIST 1.1 §3.1)"});
        }
    }
    return findings;
}

SubjectResult evaluate(const Read& read, const Options& options) {
    SubjectResult r;
    r.studyId = read.studyId;
    r.subjectId = read.subjectId;
    r.evaluator = read.evaluator;
    r.confirmationRequired = options.confirmationRequired;
    const Structure s = structureOf(read);
    r.hasBaseline = s.hasBaseline;
    r.hasTargets = !s.targets.empty();
    r.hasNonTargets = !s.nonTargets.empty();

    std::vector<Contribution> cs;
    cs.reserve(s.targets.size());
    r.visits.reserve(read.visits.size() + 1);
    std::vector<const Visit*> visits;
    visits.reserve(read.visits.size());
    for (const Visit& v : read.visits) visits.push_back(&v);
    std::sort(visits.begin(), visits.end(), [](const Visit* a, const Visit* b) { return a->number < b->number; });
    auto visitDate = [](const Visit* v) {
        std::optional<Date> d;
        for (const auto& [id, a] : v->assessments) {
            if (a.date && (!d || *a.date < *d)) d = a.date;
        }
        return d;
    };

    // Baseline.
    const Visit* baseVisit = nullptr;
    for (const Visit* v : visits) {
        if (s.hasBaseline && v->number == s.baseline) baseVisit = v;
    }
    Length base;
    bool baseKnown = false;
    {
        VisitResult b;
        b.baseline = true;
        b.number = s.hasBaseline ? s.baseline : (visits.empty() ? VisitNum{} : visits.front()->number);
        if (baseVisit) b.date = visitDate(baseVisit);
        if (r.hasTargets && baseVisit) {
            contributions(s, baseVisit, true, cs);
            baseKnown = std::all_of(cs.begin(), cs.end(), [](const Contribution& c) { return c.known; });
            if (baseKnown) {
                for (const Contribution& c : cs) base = base + c.value;
                b.sum = base;
                b.complete = true;
                b.targetReason = "baseline sum of diameters " + base.formatMm() + " mm over " + std::to_string(cs.size()) + " target" +
                                 (cs.size() == 1 ? "" : "s");
            }
        }
        r.visits.push_back(std::move(b));
    }

    // Dates in reasons: ISO, or days from the baseline scan for a blinded reader.
    const std::optional<Date> baseDate = r.visits.front().date;
    const bool relative = options.reasonDates == ReasonDates::DaysFromBaseline;
    auto dayNumber = [&](const Date& d) { return baseDate ? std::to_string(d - *baseDate) : std::string("?"); };
    auto dateText = [&](const Date& d) { return relative ? "day " + dayNumber(d) + " from baseline" : d.iso(); };

    // Follow-ups.
    Nadir nadir{base, {}, true};
    std::optional<Response> lastTargetNotNE;
    for (const Visit* v : visits) {
        if (!s.hasBaseline || !(s.baseline < v->number)) continue;
        VisitResult vr;
        vr.number = v->number;
        vr.date = visitDate(v);

        // Targets (contract §3.2-3.3).
        if (r.hasTargets && baseKnown) {
            contributions(s, v, false, cs);
            Length sum;
            std::string missing;
            vr.complete = true;
            for (const Contribution& c : cs) {
                if (c.known) {
                    sum = sum + c.value;
                } else {
                    vr.complete = false;
                    missing += (missing.empty() ? "" : ", ") + c.source();
                }
            }
            vr.nadir = nadir.value;
            if (vr.complete) {
                vr.sum = sum;
                auto diseaseLeft = [](const Contribution& c) { return (c.nodal && c.value >= k10mm) || (!c.nodal && c.value.um > 0); };
                const bool reappeared = std::any_of(cs.begin(), cs.end(), diseaseLeft);
                auto reappearedWhat = [&] {
                    std::string what;
                    for (const Contribution& c : cs) {
                        if (diseaseLeft(c)) what += (what.empty() ? "" : ", ") + c.source() + " " + c.value.formatMm() + " mm";
                    }
                    return what;
                };
                if (meetsProgression(sum, nadir.value)) {
                    vr.target = Response::PD;
                    vr.targetReason = cat("PD: SOD ", mm(sum), " mm is ", pct(sum, nadir.value), " and ", mmDelta(sum - nadir.value),
                                          " over ", nadirText(nadir), " (RECIST 1.1 §4.3.1: +20 % and +5 mm)");
                } else if (lastTargetNotNE == Response::CR && reappeared) {
                    vr.target = Response::PD;
                    vr.targetReason = "PD: disease after a complete response (" + reappearedWhat() + "; RECIST 1.1 Table 3 note)";
                } else if (!reappeared) {
                    vr.target = Response::CR;
                    vr.targetReason =
                        cat("CR: every non-nodal target gone and every nodal target under 10 mm (SOD ", mm(sum), " mm; RECIST 1.1 §4.3.1)");
                } else if (static_cast<__int128>(sum.um) * 10 <= static_cast<__int128>(base.um) * 7) {
                    vr.target = Response::PR;
                    vr.targetReason = cat("PR: SOD ", mm(sum), " mm is ", pct(sum, base), " from the baseline ", mm(base),
                                          " mm (RECIST 1.1 §4.3.1: at least -30 %)");
                } else {
                    vr.target = Response::SD;
                    vr.targetReason = cat("SD: SOD ", mm(sum), " mm is ", pct(sum, base), " from baseline and ", mmDelta(sum - nadir.value),
                                          " (", pct(sum, nadir.value), ") over ", nadirText(nadir), ": neither PR nor PD");
                }
            } else if (meetsProgression(sum, nadir.value)) {
                // RECIST 1.1 §4.4.2: a missing measurement does not prevent PD already proven.
                vr.target = Response::PD;
                vr.targetReason = cat("PD: the assessed targets alone sum ", mm(sum), " mm, ", pct(sum, nadir.value), " and ",
                                      mmDelta(sum - nadir.value), " over ", nadirText(nadir), " (", missing, " not assessed)");
            } else {
                vr.target = Response::NE;
                vr.targetReason = cat("NE: ", missing, " not assessed, and the assessed targets (", mm(sum), " mm) do not prove PD over ",
                                      nadirText(nadir), " (RECIST 1.1 §4.4.2)");
            }
            if (*vr.target != Response::NE) lastTargetNotNE = vr.target;
        } else if (r.hasTargets) {
            vr.target = Response::NE;
            vr.targetReason = "NE: the baseline sum is unknown";
        }

        // Non-targets (contract §3.4).
        if (r.hasNonTargets) {
            std::string progressed, unknown, present;
            for (const Lesion* nt : s.nonTargets) {
                const Assessment* a = find(v, nt->id);
                using K = Assessment::Kind;
                if (a && a->kind == K::Unequivocal)
                    progressed += (progressed.empty() ? "" : ", ") + nt->id;
                else if (!a || a->kind == K::NotEvaluable || a->kind == K::NotDone || a->kind == K::Merged)
                    unknown += (unknown.empty() ? "" : ", ") + nt->id;
                else if (a->kind != K::Absent)
                    present += (present.empty() ? "" : ", ") + nt->id;
            }
            if (!progressed.empty()) {
                vr.nonTarget = Response::PD;
                vr.nonTargetReason = "PD: unequivocal progression of " + progressed + " (RECIST 1.1 §4.3.3)";
            } else if (!unknown.empty()) {
                vr.nonTarget = Response::NE;
                vr.nonTargetReason = "NE: " + unknown + " not evaluated";
            } else if (present.empty()) {
                vr.nonTarget = Response::CR;
                vr.nonTargetReason = "CR: every non-target lesion absent (nodes back to normal size)";
            } else {
                vr.nonTarget = Response::NonCRNonPD;
                vr.nonTargetReason = cat("NON-CR/NON-PD: ", present, " still present");
            }
        }

        // New lesions (contract §3.5).
        {
            std::string unequivocal, equivocal;
            for (const Lesion* n : s.newLesions) {
                const Assessment* a = find(v, n->id);
                if (!a) continue;
                if (a->kind == Assessment::Kind::Unequivocal || a->kind == Assessment::Kind::Present) {
                    unequivocal += (unequivocal.empty() ? "" : ", ") + n->id;
                } else if (a->kind == Assessment::Kind::Equivocal) {
                    equivocal += (equivocal.empty() ? "" : ", ") + n->id;
                }
            }
            if (!unequivocal.empty()) {
                vr.newLesion = NewLesionIndicator::Yes;
                vr.newLesionReason = "Y: unequivocal new lesion " + unequivocal;
            } else if (!equivocal.empty()) {
                vr.newLesion = NewLesionIndicator::Equivocal;
                vr.newLesionReason = "EQUIVOCAL: " + equivocal + " equivocal, not yet progression (RECIST 1.1 §4.3.5)";
            } else {
                vr.newLesion = NewLesionIndicator::No;
                vr.newLesionReason = "N: no new lesion recorded";
            }
        }

        // Overall (contract §3.6, RECIST 1.1 Tables 1 and 2).
        const bool newPd = vr.newLesion == NewLesionIndicator::Yes;
        if (r.hasTargets) {
            if (vr.target == Response::PD || vr.nonTarget == Response::PD || newPd) {
                vr.overall = Response::PD;
                vr.overallReason = vr.target == Response::PD      ? "PD: target lesions progressed (Table 1)"
                                   : vr.nonTarget == Response::PD ? "PD: non-target progression (Table 1)"
                                                                  : "PD: new lesion (Table 1)";
            } else if (vr.target == Response::NE) {
                vr.overall = Response::NE;
                vr.overallReason = "NE: target lesions not evaluable (Table 1)";
            } else if (vr.target == Response::CR) {
                const bool ntCr = !r.hasNonTargets || vr.nonTarget == Response::CR;
                vr.overall = ntCr ? Response::CR : Response::PR;
                vr.overallReason = ntCr ? "CR: targets CR, " + std::string(r.hasNonTargets ? "non-targets CR" : "no non-targets") +
                                              ", no new lesion (Table 1)"
                                        : "PR: targets CR but non-targets " + std::string(toString(*vr.nonTarget)) + " (Table 1)";
            } else {
                vr.overall = vr.target;
                vr.overallReason = cat(toString(*vr.target), ": targets ", toString(*vr.target), r.hasNonTargets ? ", non-targets " : "",
                                       r.hasNonTargets ? toString(*vr.nonTarget) : "", ", no new lesion (Table 1)");
            }
        } else if (r.hasNonTargets) {
            if (vr.nonTarget == Response::PD || newPd) {
                vr.overall = Response::PD;
                vr.overallReason = newPd ? "PD: new lesion (Table 2)" : "PD: non-target progression (Table 2)";
            } else if (vr.nonTarget == Response::NE) {
                vr.overall = Response::NE;
                vr.overallReason = "NE: non-targets not evaluable (Table 2)";
            } else if (vr.nonTarget == Response::CR) {
                vr.overall = Response::CR;
                vr.overallReason = "CR: non-targets CR, no new lesion (Table 2)";
            } else {
                vr.overall = Response::NonCRNonPD;
                vr.overallReason = "NON-CR/NON-PD: non-target disease persists (Table 2)";
            }
        } else {
            vr.overall = newPd ? Response::PD : Response::NE;
            vr.overallReason = newPd ? "PD: new lesion" : "NE: no baseline disease recorded";
        }

        // Nadir for later visits: complete visits only (contract §3.2).
        if (vr.sum && *vr.sum < nadir.value) nadir = {*vr.sum, v->number, false};
        r.visits.push_back(std::move(vr));
    }

    // Progression date (contract §4.1, RECIST 1.1 §4.3.5).
    std::size_t firstPd = r.visits.size();
    for (std::size_t i = 1; i < r.visits.size(); ++i) {
        if (r.visits[i].overall == Response::PD) {
            firstPd = i;
            break;
        }
    }
    if (firstPd < r.visits.size()) {
        const VisitResult& pd = r.visits[firstPd];
        r.progression = pd.date;
        r.progressionReason = "first PD at " + visitLabel(pd.number) + (pd.date ? " (" + dateText(*pd.date) + ")" : "");
        // New lesions unequivocal at the PD visit that were recorded equivocal before it.
        const Visit* pv = nullptr;
        for (const Visit* v : visits) {
            if (v->number == pd.number) pv = v;
        }
        std::optional<Date> earliest;
        std::string which;
        for (const Lesion* n : s.newLesions) {
            const Assessment* a = find(pv, n->id);
            if (!a || (a->kind != Assessment::Kind::Unequivocal && a->kind != Assessment::Kind::Present)) continue;
            bool wasEquivocal = false;
            std::optional<Date> eqDate;
            for (const Visit* v : visits) {
                if (!(s.baseline < v->number) || !(v->number < pd.number)) continue;
                const Assessment* e = find(v, n->id);
                if (e && e->kind == Assessment::Kind::Equivocal) {
                    wasEquivocal = true;
                    if (!eqDate) {
                        eqDate = n->identifiedOn;
                        if (!eqDate) {
                            for (const auto& [id, x] : v->assessments) {
                                if (x.date && (!eqDate || *x.date < *eqDate)) eqDate = x.date;
                            }
                        }
                    }
                }
            }
            if (wasEquivocal && eqDate && (!earliest || *eqDate < *earliest)) {
                earliest = eqDate;
                which = n->id;
            }
        }
        if (earliest && (!r.progression || *earliest < *r.progression)) {
            r.progression = earliest;
            r.progressionReason += "; dated " + dateText(*earliest) + ", first detection of " + which +
                                   " recorded equivocal then confirmed (RECIST 1.1 §4.3.5)";
        }
    } else {
        r.progressionReason = "no progression recorded";
    }

    // Best overall response (contract §4.2): visits up to and including the first PD.
    std::vector<const VisitResult*> window;
    for (std::size_t i = 1; i < r.visits.size() && i <= firstPd; ++i) window.push_back(&r.visits[i]);
    auto days = [&](const VisitResult* v) { return v->date ? std::optional<int>(*v->date - read.randomization) : std::nullopt; };
    auto meetsSdMinimum = [&](const VisitResult* v) {
        const auto d = days(v);
        return d && *d >= options.sdMinDaysFromBaseline;
    };
    const Response stableValue = r.hasTargets ? Response::SD : Response::NonCRNonPD;
    const std::string minText = ">= " + std::to_string(options.sdMinDaysFromBaseline) + " days from randomization";
    bool decided = false;
    if (!options.confirmationRequired) {
        for (Response want : {Response::CR, Response::PR}) {
            for (const VisitResult* v : window) {
                if (!decided && v->overall == want) {
                    r.best = want;
                    r.bestReason = std::string(toString(want)) + " at " + visitLabel(v->number) +
                                   " (confirmation not required: randomized trial, RECIST 1.1 §4.4.3/§4.6)";
                    decided = true;
                }
            }
        }
    } else {
        // RECIST 1.1 Table 3: CR confirmed by CR >= min days later with only CR/NE between;
        // PR confirmed by PR or CR >= min days later with only PR/CR/NE between.
        auto confirmed = [&](Response first, std::initializer_list<Response> seconds, std::initializer_list<Response> between) -> bool {
            for (std::size_t i = 0; i < window.size(); ++i) {
                if (window[i]->overall != first || !window[i]->date) continue;
                for (std::size_t j = i + 1; j < window.size(); ++j) {
                    const Response rj = *window[j]->overall;
                    if (inSet(rj, seconds) && window[j]->date && *window[j]->date - *window[i]->date >= options.confirmationMinDays) {
                        r.bestReason = std::string(toString(first)) + " at " + visitLabel(window[i]->number) + " confirmed at " +
                                       visitLabel(window[j]->number) + ", " + std::to_string(*window[j]->date - *window[i]->date) +
                                       " days later (>= " + std::to_string(options.confirmationMinDays) + "; RECIST 1.1 Table 3)";
                        return true;
                    }
                    if (!inSet(rj, between)) break;
                }
            }
            return false;
        };
        if (confirmed(Response::CR, {Response::CR}, {Response::CR, Response::NE})) {
            r.best = Response::CR;
            decided = true;
        } else if (confirmed(Response::PR, {Response::PR, Response::CR}, {Response::PR, Response::CR, Response::NE})) {
            r.best = Response::PR;
            decided = true;
        }
    }
    if (!decided) {
        for (const VisitResult* v : window) {
            const bool stableLike = r.hasTargets ? inSet(*v->overall, {Response::CR, Response::PR, Response::SD})
                                                 : inSet(*v->overall, {Response::CR, Response::NonCRNonPD});
            if (stableLike && meetsSdMinimum(v)) {
                r.best = stableValue;
                r.bestReason = std::string(toString(stableValue)) + ": " + std::string(toString(*v->overall)) + " at " +
                               visitLabel(v->number) + ", " + (relative ? dateText(*v->date) : "day " + std::to_string(*days(v))) + " (" +
                               minText + (options.confirmationRequired && *v->overall != stableValue ? "; unconfirmed" : "") + ")";
                decided = true;
                break;
            }
        }
    }
    if (!decided) {
        if (firstPd < r.visits.size()) {
            r.best = Response::PD;
            r.bestReason = "PD at " + visitLabel(r.visits[firstPd].number) + " with no earlier response or stable disease " + minText;
        } else {
            r.best = Response::NE;
            r.bestReason = "NE: no evaluable response " + minText;
        }
    }

    // Disease control at the landmark (contract §4.4).
    const Date landmark = read.randomization.plusDays(options.dcrLandmarkDays);
    const Date lo = landmark.plusDays(-options.dcrWindowDays), hi = landmark.plusDays(options.dcrWindowDays);
    const VisitResult* star = nullptr;
    for (std::size_t i = 1; i < r.visits.size(); ++i) {
        const VisitResult& v = r.visits[i];
        if (!v.date || *v.date < lo || hi < *v.date) continue;
        const int dist = std::abs(*v.date - landmark);
        if (!star || dist < std::abs(*star->date - landmark) || (dist == std::abs(*star->date - landmark) && *v.date < *star->date)) {
            star = &v;
        }
    }
    const std::string windowText = "day " + std::to_string(options.dcrLandmarkDays) + " +- " + std::to_string(options.dcrWindowDays) +
                                   (relative ? " from randomization (days " + dayNumber(lo) + " to " + dayNumber(hi) + " from baseline)"
                                             : " (" + lo.iso() + " to " + hi.iso() + ")");
    if (r.progression && *r.progression <= (star ? *star->date : hi)) {
        r.diseaseControl = DiseaseControl::No;
        r.diseaseControlReason = "N: progression on " + dateText(*r.progression) + " before the landmark " + windowText;
    } else if (star) {
        const bool controlled = inSet(*star->overall, {Response::CR, Response::PR, Response::SD, Response::NonCRNonPD});
        r.diseaseControl = controlled ? DiseaseControl::Yes : DiseaseControl::NotEvaluable;
        r.diseaseControlReason = std::string(controlled ? "Y: " : "NE: ") + visitLabel(star->number) + " on " + dateText(*star->date) +
                                 ", nearest the landmark " + windowText + ", is " + std::string(toString(*star->overall));
    } else if (read.death && *read.death <= hi) {
        r.diseaseControl = DiseaseControl::No;
        r.diseaseControlReason =
            "N: death on " + dateText(*read.death) + " without documented progression, before the end of " + windowText;
    } else {
        r.diseaseControl = DiseaseControl::NotEvaluable;
        r.diseaseControlReason = "NE: no dated assessment in the landmark window " + windowText;
    }
    return r;
}

} // namespace recist
