// The trial plan: everything the phantom will write, decided from the seed before any pixel
// is drawn. Sites, subjects (with their PHI and arm), a scripted RECIST course per subject,
// lesions with known geometry per timepoint, the series of each timepoint, the arm leaks a
// site would plant, and the files the anonymizer must quarantine.
//
// Geometry is in the DICOM patient coordinate system (LPS, millimetres): +x toward the
// patient's left, +y posterior, +z toward the head. Lesion diameters are whole tenths of a
// millimetre so that RECIST sums are exact.
#pragma once

#include "phantom/Date.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace phantom {

struct Options {
    std::filesystem::path out;
    std::uint64_t seed = 1;
    int subjects = 4;
    int timepoints = 3; ///< baseline + (timepoints - 1) follow-ups
    int slices = 120;   ///< CT slices per series
    double sliceThicknessMm = 2.5;
    int threads = 0;          ///< 0 = hardware concurrency
    int mrOffsetDays = 0;     ///< the MR of a visit this many days after its CT (one visit, two scan days)
    bool unscheduled = false; ///< an unscheduled CT between the first two follow-ups (a repeat of follow-up 1's anatomy)
    // What real follow-ups look like (reading assistance's test bed; all off by default, and
    // off they change no byte of the trial):
    bool motion = false;        ///< each exam's own patient pose (shift, rotation, scan z range) and breathing
    bool hardLesions = false;   ///< more non-target lesions: nodes against vessels of the same density, a liver
                                ///< lesion against an enhanced vein, low-contrast liver lesions
    bool partialVolume = false; ///< edge pixels take the share of each tissue they cover (4x4 sampling)
    int ctNoiseHu = 6;          ///< the CT's Gaussian noise (standard deviation, HU); 6 changes no byte of the trial
};

/// The patient's pose in one exam (phantom --motion): the body is rotated about the scanner's
/// z axis and shifted; organs and their lesions are moved cranio-caudally by breathing
/// (`breathingMm` x 1 for liver, spleen, lungs and heart, x 0.3 for lymph nodes).
struct Pose {
    double dxMm = 0, dyMm = 0, dzMm = 0; ///< in-plane shift (dy includes table height) and along the table
    double rotationDeg = 0;              ///< about z, from +x toward +y
    double breathingMm = 0;              ///< 0..10
};

struct Vec3 {
    double x = 0, y = 0, z = 0;
};

enum class LesionSite { Liver, Lung, LymphNode };
enum class LesionRole { Target, NonTarget, New };

/// Scripted course of one subject (RECIST 1.1 as the central reader should find it).
enum class Course {
    PartialResponse,             ///< targets -38 % then -50 %; one target disappears, the node < 10 mm
    StableDisease,               ///< sum within +-10 %
    ProgressionByGrowth,         ///< sum +35 % over the nadir at the second follow-up
    EquivocalNewLesionConfirmed, ///< equivocal 6 mm liver lesion at FU1, unequivocal at FU2 -> PD dated FU1
    UnequivocalNewLesion,        ///< new lung nodule at FU1 -> PD
};
const char* courseName(Course c);

/// A lesion at one timepoint. Axes are full diameters in tenths of a millimetre.
struct LesionState {
    bool present = false;   ///< visible in the images
    int longTenthsMm = 0;   ///< in-plane long axis
    int shortTenthsMm = 0;  ///< in-plane short axis, perpendicular to the long axis
    int ccTenthsMm = 0;     ///< cranio-caudal extent
    bool equivocal = false; ///< new lesions: too small/unclear to call progression yet
    double longMm() const { return longTenthsMm / 10.0; }
    double shortMm() const { return shortTenthsMm / 10.0; }
};

struct Lesion {
    std::string id; ///< SDTM TULNKID: T01.., NT01.., NEW01..
    LesionSite site = LesionSite::Liver;
    LesionRole role = LesionRole::Target;
    std::string location;            ///< SDTM TULOC: LIVER, LUNG, LYMPH NODE
    Vec3 centerMm;                   ///< centre of the ellipsoid; z lies on a slice of every series
    double angleDeg = 0;             ///< long axis angle in the axial plane, from +x toward +y
    std::vector<LesionState> states; ///< one per timepoint
    /// phantom --hard-lesions: "node_by_vessel" (a vessel of the node's density touches it),
    /// "liver_by_vein" (an enhanced vein touches it), "low_contrast" (17 HU under the liver);
    /// empty for the scripted lesions.
    std::string kind;
    Vec3 vesselOffsetMm; ///< the touching vessel's axis, from the lesion's centre (z unused)
    double vesselRadiusMm = 0;
};

enum class Tissue : std::uint8_t; // defined by the renderer

/// Where a site leaked arm information, for the anonymizer's tests.
struct ArmLeak {
    std::string where; ///< DICOM attribute path, e.g. "StudyDescription", "(0011,1012)"
    std::string text;
};

struct SeriesPlan {
    std::string modality; ///< CT, MR, NM, SC
    int number = 0;       ///< SeriesNumber
    std::string description;
    std::string uid;
    std::string frameOfReferenceUid;
    int rows = 0, columns = 0, slices = 0;
    double pixelSpacingMm[2] = {0, 0}; ///< row spacing (y), column spacing (x)
    double sliceThicknessMm = 0;
    double firstSliceZMm = 0; ///< z of instance 1 (most cranial); slices go caudally
    double originXMm = 0, originYMm = 0;
    std::vector<std::string> sopInstanceUids;
    std::filesystem::path dir;    ///< relative to the output folder
    std::string quarantineReason; ///< empty unless the whole series must be quarantined
    std::vector<ArmLeak> armLeaks;
    double zOfSlice(int i) const { return firstSliceZMm - i * sliceThicknessMm; }
};

struct StudyPlan {
    std::string uid;
    std::string accessionNumber;
    std::string description;
    Date date;
    std::string time;         ///< DICOM TM
    int timepoint = -1;       ///< index into Subject::timepoints, -1 for non-reading studies
    bool unscheduled = false; ///< an unscheduled assessment: shows timepoint `timepoint`'s anatomy on another day
    std::vector<SeriesPlan> series;
    std::vector<ArmLeak> armLeaks;
};

struct TimepointPlan {
    int index = 0;     ///< 0 = baseline
    int visitNum = 1;  ///< SDTM VISITNUM
    std::string label; ///< BASELINE, WEEK 8, ...
    Date scanDate;
    int dayFromRandomization = 0;
    int tableShiftSlices = 0; ///< this exam's scan range offset, in CT slices (even)
    Pose pose;                ///< identity unless Options::motion
    // Expected RECIST 1.1 result of a careful reader (the script's truth).
    int sumTenthsMm = 0;
    std::string targetResponse, nonTargetResponse, newLesion, overallResponse;
};

struct Site {
    std::string code; ///< "01"
    std::string institution;
    std::string address;
    std::string city;
    std::string manufacturer, model, stationName, deviceSerial;
    std::string aeTitle;
};

struct Subject {
    int index = 0;
    std::string pseudonym;   ///< trial subject ID, e.g. RELUTH-01-003
    int site = 0;            ///< index into TrialPlan::sites
    std::string patientId;   ///< the site's own ID (PHI)
    std::string patientName; ///< DICOM PN (PHI)
    std::string birthDate;   ///< DICOM DA (PHI)
    std::string sex;         ///< M/F
    std::string address, phone, otherPatientId;
    std::string referringPhysician, performingPhysician, operatorName;
    std::string arm; ///< "LUTATHERA" or "SURVEILLANCE" - never reaches a reader
    Date randomization;
    Course course = Course::StableDisease;
    bool hasMr = false;
    std::vector<Lesion> lesions;
    std::vector<TimepointPlan> timepoints;
    std::vector<StudyPlan> studies;
    std::string expectedBestResponse;
    std::string expectedProgressionDate; ///< ISO date or empty
    /// rPFS the scripted course implies (recist-sdtm.md 7.2 with ReLUTH's 126-day gap; the
    /// phantom has no deaths and no missed visits): CNSR, ADT, and the event or censoring text.
    int expectedRpfsCensored = 1;
    std::string expectedRpfsDate, expectedRpfsDescription;
};

/// A file the anonymizer must not let through, and why.
struct QuarantineItem {
    std::filesystem::path file; ///< relative to the output folder; a series folder for whole series
    std::string reason;
};

struct TrialPlan {
    Options options;
    std::string studyId = "RELUTH";
    std::vector<Site> sites;
    std::vector<Subject> subjects;
    std::vector<QuarantineItem> quarantine;
    std::filesystem::path corruptFile;  ///< truncated CT file
    std::filesystem::path burnedInFile; ///< secondary capture with burned-in PHI
    double leftMarkerXMm = 0;           ///< a radio-opaque bead on the patient's left side
};

/// Where a lesion's centre is in the scanner's coordinates at a timepoint (its pose and breathing).
Vec3 lesionCenterAt(const Subject& subject, const Lesion& lesion, int timepoint);
/// How much of a lesion's breathing motion it follows (1 in organs, 0.3 for lymph nodes).
double breathingShare(const Lesion& lesion);
/// A body point (the phantom's anatomy coordinates) in the scanner's coordinates for a pose.
Vec3 toScanner(const Pose& pose, const Vec3& body);

/// The smallest cranio-caudal coverage (mm) the lesion layout needs.
inline constexpr double kMinCoverageMm = 220.0;

/// Decides the whole trial from the options. Throws std::invalid_argument on bad options.
TrialPlan makePlan(const Options& options);

} // namespace phantom
