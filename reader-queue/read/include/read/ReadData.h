#pragma once
// What a reader records for one timepoint (the read payload, JSON: docs/read-payload.md), how
// a reader's timepoints become CDISC SDTM TU/TR rows (../shared/docs/recist-sdtm.md), and the
// `recist` engine's results for them. One conversion serves the completeness check before a
// signature, the live results, the adjudication triggers and the SDTM export, so what is
// exported is exactly what was evaluated.
#include "charter/Charter.h"
#include "recist/Evaluate.h"

#include <optional>
#include <string>
#include <vector>

namespace rq {

/// One timepoint of one reader's read.
struct TimepointRead {
    int ordinal = 0;           ///< 1 = baseline
    std::string studyDate;     ///< YYYYMMDD (the store's folder date)
    std::string payload;       ///< JSON
    std::string visitNum = {}; ///< SDTM VISITNUM of its visit (reader-queue/store); empty: derived from the ordinal
    std::string visit = {};    ///< its visit label (BASELINE, WEEK 8, UNSCHEDULED); empty: derived from the ordinal
};

/// A problem with a read, with the rule that finds it (INCOMPLETE, BAD_PAYLOAD, or an engine
/// rule code of the SDTM contract such as TGT_NOT_MEASURABLE) and the timepoint/lesion.
struct ReadProblem {
    std::string rule;
    std::string message;
};

/// The subject's dates the engine needs (ISO YYYY-MM-DD; death may be empty).
struct SubjectDates {
    std::string randomization, death;
};

/// Checks the last timepoint of tps (the earlier ones are the reader's signed timepoints):
/// the payload is well formed, every lesion known so far is answered, and new lesions are
/// declared as the contract allows at that visit. Empty when it can be signed as far as
/// the payload goes (the engine's rules are checked by evaluateRead()).
std::vector<ReadProblem> checkTimepoint(const std::vector<TimepointRead>& tps);

/// SDTM visit number and label of a timepoint ordinal under the charter's schedule when every
/// visit is scheduled (timepoints registered before visits were stored); a timepoint's own
/// visit (TimepointRead::visitNum/visit) is used whenever it is known.
std::string visitNumOf(const charter::Charter& c, int ordinal);
std::string visitLabelOf(const charter::Charter& c, int ordinal);

/// TU and TR CSV text (header included) of one reader's timepoints; accepted fills TRACPTFL.
struct SdtmText {
    std::string tu, tr;
};
SdtmText toSdtm(const charter::Charter& c, const std::string& subject, const std::string& evaluator, const std::vector<TimepointRead>& tps,
                const std::string& accepted = {});
/// Header lines of the TU and TR files toSdtm() writes.
std::string tuHeader();
std::string trHeader();

/// The SUBJ.csv row and config.json text the engine takes.
std::string subjectsHeader();
std::string subjectRow(const charter::Charter& c, const std::string& subject, const SubjectDates& d);
std::string engineConfig(const charter::Charter& c);

/// The reader's timepoints as the engine's typed read, directly: the mapping and the rule codes
/// of recist/Sdtm.cpp's reader of the rows toSdtm() writes (a test holds the two equal), plus
/// the baseline rules with the slice thickness the viewer measured on. Empty with problems.
std::optional<recist::Read> engineRead(const charter::Charter& c, const std::string& subject, const std::string& evaluator,
                                       const SubjectDates& dates, const std::vector<TimepointRead>& tps,
                                       std::vector<ReadProblem>& problems);

struct Evaluation {
    std::optional<recist::SubjectResult> result; ///< empty when there are problems
    std::vector<ReadProblem> problems;           ///< the engine's findings, by timepoint and lesion
};
/// Runs the engine on one reader's timepoints (through the last one given).
/// reasonDates: DaysFromBaseline for what a blinded reader sees (no calendar date in any reason).
Evaluation evaluateRead(const charter::Charter& c, const std::string& subject, const std::string& evaluator, const SubjectDates& dates,
                        const std::vector<TimepointRead>& tps, recist::ReasonDates reasonDates = recist::ReasonDates::Calendar);

/// The results as JSON text: per visit sums, % changes and responses with their reasons, and
/// best response, progression date and disease control with theirs.
std::string resultJson(const recist::SubjectResult& r);

/// The charter's adjudication triggers between Reader 1's and Reader 2's results (rule = the
/// trigger, message = what differs). subjectLevel: also the per-subject triggers (best
/// response, progression dates, progression in one read only, disease control at the
/// landmark), which are evaluated at the end of the subject's reading or once both reads
/// have progressed (nothing later changes them).
std::vector<ReadProblem> adjudicationTriggers(const charter::AdjudicationTriggers& t, const recist::SubjectResult& r1,
                                              const recist::SubjectResult& r2, bool subjectLevel);

} // namespace rq
