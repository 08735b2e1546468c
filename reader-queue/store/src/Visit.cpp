#include "store/Visit.h"

#include "recist/Types.h"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace store {

namespace {

std::optional<recist::Date> dateOf(const std::string& yyyymmdd) {
    recist::Date d;
    if (yyyymmdd.size() == 8 && recist::Date::parse(yyyymmdd.substr(0, 4) + "-" + yyyymmdd.substr(4, 2) + "-" + yyyymmdd.substr(6, 2), d))
        return d;
    return std::nullopt;
}

Visit baseline(const charter::VisitSchedule& s) {
    Visit v;
    v.kind = Visit::Kind::Baseline;
    v.id = "V" + std::to_string(s.baselineVisit);
    v.label = s.baselineLabel.empty() ? "BASELINE" : s.baselineLabel;
    v.visitNum = std::to_string(s.baselineVisit);
    return v;
}

Visit followup(const charter::VisitSchedule& s, int n) {
    Visit v;
    v.kind = Visit::Kind::Scheduled;
    v.followup = n;
    v.visitNum = std::to_string(s.visitNumOfFollowup(n));
    v.id = "V" + v.visitNum;
    v.label = s.labelOfFollowup(n);
    return v;
}

/// Unscheduled after scheduled follow-up `after` (0: after the baseline); k-th such (1-based).
Visit unscheduled(const charter::VisitSchedule& s, int after, int k) {
    Visit v;
    v.kind = Visit::Kind::Unscheduled;
    v.followup = after;
    const std::string prev = after == 0 ? std::to_string(s.baselineVisit) : std::to_string(s.visitNumOfFollowup(after));
    v.id = "V" + prev + ".U";
    v.label = "UNSCHEDULED";
    v.visitNum = prev + "." + std::to_string(k);
    return v;
}

} // namespace

Visit visitOfDay(const charter::VisitSchedule& s, int day) {
    if (day <= s.windowDays || s.intervalDays <= 0) return baseline(s);
    const int n = (day + s.intervalDays / 2) / s.intervalDays;
    if (n >= 1 && std::abs(day - s.nominalDayOfFollowup(n)) <= s.windowDays) return followup(s, n);
    return unscheduled(s, std::max(0, day / s.intervalDays), 1);
}

std::optional<Visit> visitOfId(const charter::VisitSchedule& s, const std::string& id) {
    if (id.size() < 2 || id[0] != 'V') return std::nullopt;
    const bool uns = id.size() > 2 && id.compare(id.size() - 2, 2, ".U") == 0;
    const std::string digits = id.substr(1, id.size() - 1 - (uns ? 2 : 0));
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) return std::nullopt;
    const int k = std::atoi(digits.c_str());
    const int n = k == s.baselineVisit ? 0 : k - s.firstFollowupVisit + 1;
    if (k != s.baselineVisit && n < 1) return std::nullopt;
    if (uns) return unscheduled(s, n, 1);
    return n == 0 ? baseline(s) : followup(s, n);
}

std::optional<Visit> visitOfNum(const charter::VisitSchedule& s, const std::string& visitNum) {
    const auto dot = visitNum.find('.');
    const std::string whole = visitNum.substr(0, dot);
    auto v = visitOfId(s, "V" + whole + (dot == std::string::npos ? "" : ".U"));
    if (v && dot != std::string::npos) v->visitNum = visitNum;
    return v;
}

std::vector<Assessment> assessments(const charter::VisitSchedule& s, std::vector<StudyRef> studies, const std::string& randomization,
                                    std::vector<std::string>* notes) {
    auto note = [&](const std::string& n) {
        if (notes) notes->push_back(n);
    };
    std::optional<recist::Date> rand;
    if (recist::Date r; !randomization.empty() && recist::Date::parse(randomization, r)) rand = r;
    std::vector<std::pair<StudyRef, recist::Date>> dated;
    for (StudyRef& st : studies) {
        if (auto d = dateOf(st.date))
            dated.push_back({std::move(st), *d});
        else
            note(st.folder + ": the study has no date; it belongs to no timepoint");
    }
    std::stable_sort(dated.begin(), dated.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second < b.second : a.first.folder < b.first.folder;
    });
    // each study's visit: from the randomization date, else from the files' time point
    std::vector<std::optional<Visit>> visits;
    bool all = true;
    for (const auto& [st, d] : dated) {
        std::optional<Visit> v;
        if (rand)
            v = visitOfDay(s, d - *rand);
        else
            v = visitOfId(s, st.timePointId);
        all = all && v.has_value();
        visits.push_back(v);
    }
    std::vector<Assessment> out;
    std::vector<recist::Date> firstDate;
    if (!all) {
        if (!dated.empty())
            note("visits assigned in date order (the randomization date is unknown and the files carry no time point): "
                 "the first visit is the baseline, then one follow-up each");
        for (const auto& [st, d] : dated) {
            if (!out.empty() && d - firstDate.back() <= s.windowDays) {
                out.back().folders.push_back(st.folder);
                continue;
            }
            const int n = static_cast<int>(out.size());
            out.push_back({n == 0 ? baseline(s) : followup(s, n), st.date, {st.folder}});
            firstDate.push_back(d);
        }
        return out;
    }
    std::map<int, int> unscheduledAfter; // scheduled follow-up -> how many unscheduled after it so far
    for (std::size_t i = 0; i < dated.size(); ++i) {
        const auto& [st, d] = dated[i];
        Visit v = *visits[i];
        std::size_t j = 0;
        for (; j < out.size(); ++j) {
            if (out[j].visit.id != v.id) continue;
            if (v.kind != Visit::Kind::Unscheduled || d - firstDate[j] <= s.windowDays) break;
        }
        if (j < out.size()) {
            out[j].folders.push_back(st.folder);
            continue;
        }
        if (v.kind == Visit::Kind::Unscheduled) v = unscheduled(s, v.followup, ++unscheduledAfter[v.followup]);
        out.push_back({v, st.date, {st.folder}});
        firstDate.push_back(d);
    }
    return out; // in date order: a visit's first study comes before later visits' (windows do not overlap)
}

} // namespace store
