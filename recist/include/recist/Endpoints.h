// Subject-level endpoints of one read (contract §7, recist-sdtm.md): rPFS as an event or a
// censoring date with its reason, after the FDA 2018 guidance "Clinical Trial Endpoints for
// the Approval of Cancer Drugs and Biologics" (table of PFS censoring options), and the
// ADaM-style ADTTE / ADRS rows. Pure functions over the engine's result.
#pragma once

#include "recist/Evaluate.h"

#include <optional>
#include <string>
#include <vector>

namespace recist {

/// One ADTTE row (PARAMCD RPFS) of one subject and reader.
struct TimeToEvent {
    std::string studyId, subjectId, evaluator; ///< evaluator empty: the subject has no read (rule 1)
    Date start;                                ///< STARTDT = randomization
    Date date;                                 ///< ADT: the event or the censoring date
    bool censored = true;                      ///< CNSR 1
    std::string eventDescription;              ///< EVNTDESC (events)
    std::string censorDescription;             ///< CNSDTDSC (censored)
    int rule = 0;                              ///< contract §7.2 rule 1-5 that decided
    std::string reason;                        ///< why, in words a statistician can check
    int days() const { return date - start + 1; } ///< AVAL = ADT - STARTDT + 1
};

/// The latest adequate assessment (contract §7.1) dated strictly before `before` (any date
/// when empty): a post-baseline visit up to the first PD whose overall response is not NE.
std::optional<Date> lastAdequateAssessment(const SubjectResult& result, std::optional<Date> before = std::nullopt);

/// rPFS of one read (contract §7.2 rules 1-5).
TimeToEvent rpfs(const SubjectResult& result, Date randomization, std::optional<Date> death, const Options& options);

/// rPFS of a subject nobody has read (no TU record): rule 1, censored at randomization.
TimeToEvent rpfsWithoutRead(const std::string& studyId, const std::string& subjectId, Date randomization);

} // namespace recist
