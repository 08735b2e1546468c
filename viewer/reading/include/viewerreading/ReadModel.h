#pragma once
// A reader's read of one subject as the lesion panel edits it, without a GUI: the lesions
// identified so far, the answers of the timepoint being read, the calipers they came from,
// and - on every change - the reading queue's own checks and the `recist` engine's results.
// The draft is the read payload of docs/read-payload.md; the checks and results come from
// rq::checkTimepoint and rq::evaluateRead, the very functions the queue runs when the reader
// signs, so what the panel shows is what the signature will store.
#include "charter/Charter.h"
#include "read/Payload.h"
#include "read/ReadData.h"
#include "viewercore/Measure.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vr {

/// The read payload of one timepoint, owned by reader-queue/read (one type, one JSON codec).
using LesionEntry = rq::LesionEntry;
using AnswerEntry = rq::AnswerEntry;
using Draft = rq::Payload;

struct KnownLesion {
    std::string id, role, location;
    int identifiedAt = 1;   ///< ordinal of the timepoint it was identified at
    bool nodal = false;     ///< a lymph node: short axis
    bool answerable = true; ///< must be answered now (not split into fragments, not merged earlier)
};

/// The organs the panel offers (SDTM TULOC values; every lymph node location is nodal).
const std::vector<std::string>& organs();
bool isNodal(const std::string& location);

class ReadModel {
public:
    /// earlier: the reader's signed timepoints before this one (ordinals 1..n-1).
    ReadModel(charter::Charter charter, std::string subject, rq::SubjectDates dates, std::vector<rq::TimepointRead> earlier, int ordinal,
              std::string studyDate, const std::string& draftPayload, std::string visitNum = {}, std::string visit = {});
    /// The visit label of one of the read's timepoints (its stored visit, else by ordinal).
    std::string visitLabelAt(int ordinal) const;

    int ordinal() const { return ordinal_; }
    bool baseline() const { return ordinal_ == 1; }
    const std::string& subject() const { return subject_; }
    const charter::Charter& charter() const { return charter_; }
    const Draft& draft() const { return draft_; }
    std::string payload() const { return draft_.toJson(); }
    const std::vector<Draft>& earlier() const { return earlierDrafts_; }

    /// Every lesion identified so far (earlier timepoints and this one), in identification order.
    std::vector<KnownLesion> lesions() const;
    std::optional<KnownLesion> lesion(const std::string& id) const;

    // ---- editing (each returns false with the reason when the rule forbids it)
    /// Identifies a lesion here: at the baseline TARGET or NON-TARGET, later NEW. Returns its id.
    std::string addLesion(const std::string& role, const std::string& location);
    bool setLocation(const std::string& id, const std::string& location, std::string* why = nullptr);
    /// Removes a lesion identified at this timepoint with its answer and the label of its caliper.
    bool removeLesion(const std::string& id, std::string* why = nullptr);
    /// Sets the answer of a lesion (TOO SMALL TO MEASURE, 0, PRESENT, ...); keeps no caliper.
    bool setAnswer(const std::string& id, const std::string& result, const std::string& reason = {}, std::string* why = nullptr);
    bool clearAnswer(const std::string& id);
    /// The lesion's value from a caliper (long axis; short axis for a node); the caliper is kept
    /// in the draft labelled with the lesion id. sliceThickness: of the series measured on.
    bool measure(const std::string& id, const vc::Measurement& m, double sliceThickness, std::string* why = nullptr);
    /// The target was split: fragments id.1 .. id.n are identified here, each to be measured.
    bool split(const std::string& id, int fragments, std::string* why = nullptr);
    /// Targets merged into one lesion: "a/b" is identified here; the parents are NOT DONE, TUMOR MERGED.
    bool merge(const std::string& a, const std::string& b, std::string* why = nullptr);
    /// The view's calipers on one series replace the draft's on that series; answers whose
    /// caliper was edited follow it, answers whose caliper was deleted are cleared, and a
    /// labelled caliper brought back (undo) answers its unanswered target again.
    void syncMeasurements(const std::string& seriesUid, const std::vector<vc::Measurement>& view);

    /// The caliper to jump to for a lesion: this timepoint's, else the latest earlier one.
    std::optional<vc::Measurement> lastMeasurement(const std::string& id, int throughOrdinal) const;

    // ---- checks and results (recomputed on every change)
    struct Evaluation {
        std::vector<rq::ReadProblem> problems; ///< what keeps the timepoint from being signed
        std::optional<recist::SubjectResult> result;
    };
    const Evaluation& evaluation() const { return evaluation_; }
    bool signable() const { return evaluation_.problems.empty() && evaluation_.result.has_value(); }

private:
    void evaluate();
    /// Stores a caliper or point in the draft as the lesion's (taking the label from any other
    /// of its calipers); returns the stored copy (its id may be renumbered).
    vc::Measurement giveTo(const std::string& id, const vc::Measurement& m);
    /// Answers measured by a caliper take its current length; lost calipers unanswer them.
    void followCalipers();
    std::string nextId(const std::string& prefix) const;
    bool identifiedHere(const std::string& id) const;

    charter::Charter charter_;
    std::string subject_;
    rq::SubjectDates dates_;
    std::vector<rq::TimepointRead> earlier_;
    std::vector<Draft> earlierDrafts_;
    int ordinal_ = 1;
    std::string studyDate_, visitNum_, visit_;
    Draft draft_;
    Evaluation evaluation_;
    std::map<std::string, double> thickness_; ///< slice thickness by series, from measure()
};

} // namespace vr
