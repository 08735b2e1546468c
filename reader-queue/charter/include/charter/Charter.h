// The trial charter: everything trial-specific, read from one versioned JSON file in
// assets/charters/. Code never hard-codes a trial; it reads these values.
//
// The types are plain values. loadCharter()/parseCharter() validate the whole file and
// report every problem at once (each naming the JSON field, e.g. "recist.dcr_window_days"),
// so a trial manager fixes a charter in one pass. Each later module reads its own section:
// recist <- recist, anonymizer <- deidentification + blinding, reader-queue <- reading +
// visit_schedule, viewer <- blinding.
#pragma once

#include "recist/Types.h"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace charter {

/// The oldest PS3.15 edition whose Table E.1-1 a charter may name (what the project's table is generated from).
inline constexpr const char* kMinimumDicomEdition = "2024b";

struct TrialInfo {
    std::string studyId; ///< DICOM Clinical Trial Protocol ID / SDTM STUDYID
    std::string title;
    std::string registryId;   ///< e.g. NCT04954820
    std::string sponsor;      ///< DICOM Clinical Trial Sponsor Name
    std::string protocolName; ///< DICOM Clinical Trial Protocol Name
    bool randomized = true;
    int armsCount = 2;
    int plannedSubjects = 0;
};

/// Imaging schedule: a baseline before randomization, then follow-ups every intervalDays
/// counted from randomization (ReLUTH: every 8 weeks).
struct VisitSchedule {
    int baselineVisit = 1;
    std::string baselineLabel;
    int baselineWindowBeforeRandomizationDays = 0;
    int intervalDays = 0;
    int windowDays = 0;
    int followups = 0;
    int firstFollowupVisit = 2;
    std::string labelFormat; ///< "{week}" and "{n}" are replaced

    /// Nominal day from randomization of follow-up n (1-based).
    int nominalDayOfFollowup(int n) const { return n * intervalDays; }
    /// SDTM VISITNUM of follow-up n (1-based).
    int visitNumOfFollowup(int n) const { return firstFollowupVisit + n - 1; }
    /// Human label of follow-up n (1-based), e.g. "WEEK 8".
    std::string labelOfFollowup(int n) const;
};

/// The five RECIST options of docs/recist-sdtm.md (the engine's config.json): the engine's
/// own type, so the charter feeds recist::evaluate() directly.
using RecistOptions = recist::Options;

struct AdjudicationTriggers {
    bool differentTimepointResponse = false;
    bool differentBestOverallResponse = true;
    int progressionDateDifferenceDays = 56; ///< progression dates further apart than this
    bool progressionInOneReadOnly = true;
    bool differentDiseaseControlAtLandmark = true;
};

struct ReadingParadigm {
    std::string paradigm; ///< "2+1"
    int readersPerSubject = 2;
    int adjudicatorsPerSubject = 1;
    bool readTimepointsInOrder = true;
    int readTurnaroundDays = 0; ///< a read is due this many days after it is offered to its reader (0: no due date)
    /// The window presets the trial's anatomy needs, in key order (soft_tissue, liver, lung, bone,
    /// brain); empty: all of them. A brain preset in an abdominal trial is noise.
    std::vector<std::string> windowPresets;
    AdjudicationTriggers triggers;
};

struct Blinding {
    bool hideTreatmentArm = true;
    bool hideSite = true;
    bool hideOtherReader = true;
    std::vector<std::string> readerVisibleFields;
};

/// PS3.15 Annex E option "Retain Longitudinal Temporal Information".
enum class TemporalOption { FullDates, ShiftPerSubject };
/// What the anonymizer does with a text element that names the arm.
enum class ArmTextAction { Clean, Remove };

struct PrivateTag {
    std::uint16_t group = 0;  ///< odd group
    std::string creator;      ///< private creator string
    std::uint8_t element = 0; ///< element offset within the creator's block (0x00-0xFF)
};

struct QuarantineRules {
    std::vector<std::string> radiopharmaceuticalWords; ///< NM/PT series naming these are quarantined
    std::vector<std::string> seriesWords;              ///< post-therapy, dosimetry...
    bool burnedInAnnotation = true;
    bool secondaryCapture = true;
    std::vector<std::string> allowedModalities;
};

struct Deidentification {
    std::string profile;      ///< "basic" (PS3.15 Table E.1-1 Basic Profile)
    std::string dicomEdition; ///< edition of the standard the profile table comes from (YYYYx, >= kMinimumDicomEdition)
    TemporalOption temporal = TemporalOption::FullDates;
    bool cleanDescriptors = true;
    bool retainPatientCharacteristics = false;
    std::vector<std::string> armWords;
    ArmTextAction armTextAction = ArmTextAction::Clean;
    QuarantineRules quarantine;
    std::vector<PrivateTag> safePrivateTags;
    /// Per-trial additions to the descriptor vocabulary (one word each) and to the attributes
    /// whose text is rebuilt from it ("(gggg,eeee)"); the anonymizer validates them.
    std::vector<std::string> vocabularyAdditions;
    std::vector<std::string> vocabularyAttributes;
};

struct Charter {
    int format = 1;
    std::string version;
    TrialInfo trial;
    VisitSchedule visits;
    RecistOptions recist;
    ReadingParadigm reading;
    Blinding blinding;
    Deidentification deidentification;
};

/// One problem in a charter, naming the JSON field it is about.
struct Finding {
    std::string field;   ///< dotted path, e.g. "reading.readers_per_subject"
    std::string message; ///< e.g. "missing", "must be an integer >= 1"
};

/// Thrown when a charter cannot be used; what() lists every finding, one per line.
class CharterError : public std::runtime_error {
public:
    CharterError(std::string source, std::vector<Finding> findings);
    const std::vector<Finding>& findings() const { return m_findings; }
    const std::string& source() const { return m_source; }

private:
    std::string m_source;
    std::vector<Finding> m_findings;
};

/// Parses and validates a charter. sourceName is used in messages (usually the path).
Charter parseCharter(std::string_view json, std::string_view sourceName = "charter");
/// Reads, parses and validates the charter file at path.
Charter loadCharter(const std::filesystem::path& path);

/// The highest charter_format this build understands.
inline constexpr int kCharterFormat = 1;

} // namespace charter
