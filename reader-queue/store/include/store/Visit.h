#pragma once
// The visit, owned here: which timepoint of the charter's schedule a study belongs to.
//
// Rules (docs/architecture.md, "The visit"):
// - A study's day is counted from randomization. Day <= window_days is the baseline; a day
//   within +-window_days of follow-up n's nominal day (n x interval_days) is follow-up n; any
//   other day is an unscheduled assessment after the last scheduled visit before it.
// - When the randomization date is unknown, the DICOM Clinical Trial Time Point ID that the
//   anonymizer wrote from the enrolment's randomization date (same rule) decides; when neither
//   is known, studies are taken in date order (the first visit is the baseline, then one
//   follow-up each) and a note says so.
// - All studies of one visit form one timepoint (a CT and an MR two days apart are one
//   assessment); unscheduled studies less than window_days apart form one unscheduled
//   timepoint, and each unscheduled timepoint is its own assessment.
// - A timepoint's date is its earliest scan's date. The engine dates a progression at the
//   timepoint where it is seen, i.e. at the earliest scan of that assessment (the
//   conservative convention; the date of a later scan of the same visit is not used).
#include "charter/Charter.h"

#include <optional>
#include <string>
#include <vector>

namespace store {

struct Visit {
    enum class Kind { Baseline, Scheduled, Unscheduled };
    Kind kind = Kind::Baseline;
    int followup = 0;     ///< scheduled: n >= 1; unscheduled: the scheduled follow-up it comes after (0 = the baseline)
    std::string id;       ///< DICOM Clinical Trial Time Point ID (0012,0050): "V1", "V3"; unscheduled "V3.U" (after visit 3)
    std::string label;    ///< BASELINE, WEEK 16, UNSCHEDULED
    std::string visitNum; ///< SDTM VISITNUM: "1", "3"; unscheduled "3.1", "3.2" (between 3 and 4)
    bool scheduled() const { return kind != Kind::Unscheduled; }
};

/// The visit of a scan `day` days after randomization (negative: before it).
Visit visitOfDay(const charter::VisitSchedule& s, int day);
/// The visit a Clinical Trial Time Point ID written by visitOfDay() names, if it is one.
std::optional<Visit> visitOfId(const charter::VisitSchedule& s, const std::string& timePointId);
/// The visit of an SDTM VISITNUM stored with a timepoint ("3", "3.1"), for labels.
std::optional<Visit> visitOfNum(const charter::VisitSchedule& s, const std::string& visitNum);

/// A study folder with what is known of it.
struct StudyRef {
    std::string folder;      ///< the store's relative path (store::StudyFolder::relative)
    std::string date;        ///< YYYYMMDD
    std::string timePointId; ///< (0012,0050) of its files, empty when none
};
/// One timepoint: a visit and its studies.
struct Assessment {
    Visit visit;
    std::string date;                 ///< YYYYMMDD: the earliest scan of the visit
    std::vector<std::string> folders; ///< its study folders
};
/// The subject's studies grouped into timepoints in date order. randomization: YYYY-MM-DD or
/// empty. notes: what could not be placed (a study without a date) or was placed by order.
std::vector<Assessment> assessments(const charter::VisitSchedule& s, std::vector<StudyRef> studies, const std::string& randomization,
                                    std::vector<std::string>* notes = nullptr);

} // namespace store
