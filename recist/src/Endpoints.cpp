#include "recist/Endpoints.h"

namespace recist {

namespace {

bool adequate(Response r) { return r != Response::NE; }

/// The index of the first visit with overall PD (results.visits.size() when none).
std::size_t firstPd(const SubjectResult& r) {
    for (std::size_t i = 1; i < r.visits.size(); ++i)
        if (r.visits[i].overall == Response::PD) return i;
    return r.visits.size();
}

} // namespace

std::optional<Date> lastAdequateAssessment(const SubjectResult& r, std::optional<Date> before) {
    std::optional<Date> last;
    const std::size_t pd = firstPd(r);
    for (std::size_t i = 0; i < r.visits.size() && i <= pd; ++i) {
        const VisitResult& v = r.visits[i];
        if (v.baseline || !v.overall || !adequate(*v.overall) || !v.date) continue;
        if (before && !(*v.date < *before)) continue;
        if (!last || *last < *v.date) last = v.date;
    }
    return last;
}

TimeToEvent rpfsWithoutRead(const std::string& studyId, const std::string& subjectId, Date randomization) {
    TimeToEvent t;
    t.studyId = studyId;
    t.subjectId = subjectId;
    t.start = t.date = randomization;
    t.censored = true;
    t.censorDescription = "NO BASELINE ASSESSMENT";
    t.rule = 1;
    t.reason = "censored at randomization " + randomization.iso() + ": no read of this subject";
    return t;
}

TimeToEvent rpfs(const SubjectResult& r, Date randomization, std::optional<Date> death, const Options& options) {
    TimeToEvent t;
    t.studyId = r.studyId;
    t.subjectId = r.subjectId;
    t.evaluator = r.evaluator;
    t.start = randomization;
    auto censor = [&](Date at, const char* description, int rule, std::string why) {
        t.date = at;
        t.censored = true;
        t.censorDescription = description;
        t.rule = rule;
        t.reason = "censored at " + at.iso() + ": " + why;
        return t;
    };
    if (!r.hasBaseline) return censor(randomization, "NO BASELINE ASSESSMENT", 1, "no baseline assessment by this reader (rule 1)");
    // rules 2 and 3: progression, else death (when the charter counts it), unless it came after
    // two or more missed assessments - more than rpfs_max_gap_days after the last adequate one
    auto eventOrMissed = [&](Date when, const char* eventText, const char* missedText, int rule, const std::string& what) {
        const std::optional<Date> last = lastAdequateAssessment(r, when);
        const Date p = last ? *last : randomization;
        const std::string from = last ? "the last adequate assessment " + p.iso() : "randomization " + p.iso() + " (no adequate assessment before it)";
        if (when - p > options.rpfsMaxGapDays)
            return censor(p, missedText, rule,
                          what + " " + when.iso() + " came " + std::to_string(when - p) + " days after " + from + ", more than " +
                              std::to_string(options.rpfsMaxGapDays) + " (two or more missed assessments; rule " + std::to_string(rule) + ")");
        t.date = when;
        t.censored = false;
        t.eventDescription = eventText;
        t.rule = rule;
        t.reason = "event " + what + " on " + when.iso() + ", " + std::to_string(when - p) + " days after " + from + " (rule " +
                   std::to_string(rule) + ")";
        return t;
    };
    if (r.progression) return eventOrMissed(*r.progression, "RADIOLOGICAL PROGRESSION", "PD AFTER MISSED ASSESSMENTS", 2, "progression");
    if (death && options.rpfsDeathIsEvent) return eventOrMissed(*death, "DEATH", "DEATH AFTER MISSED ASSESSMENTS", 3, "death");
    const std::optional<Date> last = lastAdequateAssessment(r);
    if (!last)
        return censor(randomization, "NO ADEQUATE POST-BASELINE ASSESSMENT", 4,
                      "no post-baseline assessment with an overall response other than NE (rule 4)");
    return censor(*last, "NO PROGRESSION", 5, "no progression; the last adequate assessment (rule 5)");
}

} // namespace recist
