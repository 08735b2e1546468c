// The RECIST 1.1 rules as pure functions over one evaluator's read (recist/Model.h).
// Rules follow Eisenhauer et al. 2009 (RECIST 1.1), the 2016 update and the working
// group's FAQ, as fixed by the engine contract (docs: recist-sdtm.md). Every result
// carries a one-line reason a radiologist can check.
#pragma once

#include "recist/Model.h"

#include <optional>
#include <string>
#include <vector>

namespace recist {

/// A problem with a read, naming the contract's rule code.
struct Finding {
    std::string rule; ///< TGT_MAX_TOTAL, TGT_MAX_PER_ORGAN, TGT_NOT_MEASURABLE
    std::string lesionId;
    int sourceLine = 0; ///< line of the record that shows the problem (0 if not from a file)
    bool inTr = false;  ///< sourceLine is a TR line (else TU)
    std::string message;
};

/// Baseline target selection and measurability (RECIST 1.1 §3.1, §4.2). Every problem is
/// reported, in record order.
std::vector<Finding> validateBaseline(const Read& read);

enum class NewLesionIndicator { No, Equivocal, Yes };
std::string_view toString(NewLesionIndicator n);

enum class DiseaseControl { Yes, No, NotEvaluable };
std::string_view toString(DiseaseControl d);

struct VisitResult {
    VisitNum number;
    std::optional<Date> date; ///< earliest assessment date of the visit
    bool baseline = false;
    bool complete = false;       ///< every baseline target accounted for
    std::optional<Length> sum;   ///< sum of diameters (complete visits and baseline)
    std::optional<Length> nadir; ///< smallest earlier sum (baseline included)
    std::optional<Response> target, nonTarget, overall;
    std::optional<NewLesionIndicator> newLesion;
    std::string targetReason, nonTargetReason, newLesionReason, overallReason;
};

struct SubjectResult {
    std::string studyId, subjectId, evaluator;
    bool hasBaseline = false; ///< the reader recorded target or non-target lesions (contract §2)
    bool hasTargets = false, hasNonTargets = false;
    std::vector<VisitResult> visits; ///< baseline first, then follow-ups in visit order
    Response best = Response::NE;
    bool confirmationRequired = false;
    std::string bestReason;
    std::optional<Date> progression;
    std::string progressionReason;
    DiseaseControl diseaseControl = DiseaseControl::NotEvaluable;
    std::string diseaseControlReason;
};

/// Evaluates a read that passed validateBaseline. Pure: same read, same result.
SubjectResult evaluate(const Read& read, const Options& options);

} // namespace recist
