#pragma once
// De-identification of DICOM files for a blinded trial: PS3.15 Basic Profile with the charter's
// options, trial identity from the enrolment list, deterministic UID remapping, arm blinding,
// quarantine, and a leak scan of every output before it enters the store.
// DCMTK stays behind this header.
#include "anonymizer/Profile.h"
#include "anonymizer/TextPolicy.h"
#include "anonymizer/Text.h"
#include "charter/Charter.h"
#include "store/Quarantine.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace anon {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One enrolled patient: the site's patient ID and the trial pseudonym.
struct EnrolledPatient {
    std::string originalId;
    std::string pseudonym;
    std::optional<recist::Date> randomization; ///< optional column randomization_date (YYYY-MM-DD)
};

/// The enrolment list: CSV with a header naming original_patient_id and pseudonym (other
/// columns ignored, except an optional randomization_date used to label time points).
class Enrolment {
public:
    static Enrolment load(const std::filesystem::path& csv); ///< throws Error file:line
    static Enrolment parse(const std::string& text, const std::string& fileName);
    const EnrolledPatient* find(std::string_view originalId) const;
    std::size_t size() const { return patients_.size(); }

private:
    std::vector<EnrolledPatient> patients_;
    std::map<std::string, std::size_t, std::less<>> byId_;
};

/// The secret and the re-identification key (original -> pseudonym, UID map, date shifts).
/// Lives outside the store; only the trial manager has it.
class KeyStore {
public:
    /// Loads the key file, or creates one with a fresh secret (written at once, atomically).
    static std::unique_ptr<KeyStore> openOrCreate(const std::filesystem::path& file);
    /// A key with a given secret (tests); nothing is written until save().
    KeyStore(std::filesystem::path file, std::string secret);

    /// 2.25.<decimal of the first 128 bits of BLAKE2b keyed by the secret>.
    std::string remapUid(std::string_view uid);
    /// Whole days to add to every date of the subject (negative), from the keyed hash.
    int dateShiftDays(std::string_view originalPatientId) const;
    /// The subject's Clinical Trial Subject Reading ID (0012,0042): what readers and adjudicators
    /// see instead of the subject ID, which carries the site. "R-" and 7 letters from the keyed
    /// hash of the original ID (unpredictable without the key's secret, the same on every run and
    /// receive node), unique within the key; recorded in the key with the pseudonym. A draw that
    /// `refused` refuses (it reads as an arm word or one of the subject's identifiers) is drawn
    /// again, and so is an ID already recorded that it refuses (no file can carry it: the leak
    /// scan would have quarantined it); any other recorded ID is kept as it is.
    std::string readingId(const std::string& originalId, const std::function<bool(std::string_view)>& refused = nullptr);
    void noteSubject(const std::string& originalId, const std::string& pseudonym, int shiftDays);
    /// Writes the key file atomically (merging what it already held).
    void save();
    std::string keyedHashHex(std::string_view what, std::size_t bytes) const;
    const std::filesystem::path& file() const { return file_; }

private:
    std::filesystem::path file_;
    std::string secret_;
    std::mutex mutex_;
    std::map<std::string, std::string> uids_;
    struct SubjectKey {
        std::string pseudonym;
        int shift = 0;
        std::string readingId;
    };
    std::map<std::string, SubjectKey> subjects_;
};

/// Counts of what was done to one file.
struct Actions {
    int removed = 0, emptied = 0, dummies = 0, uids = 0, cleaned = 0, shifted = 0, privateRemoved = 0, armCleaned = 0, phiCleaned = 0;
};

/// Pending: written, leak-scanned, waiting in a temporary file for commit() (batched durability).
enum class Outcome { Stored, Quarantined, Pending };

/// Why a file went to quarantine; category is one of: corrupt, not-dicom, not-enrolled,
/// arm-series, burned-in, secondary-capture, modality, leak, duplicate-uid, write-error
/// (the store's quarantine record owns the type).
using QuarantineReason = store::QuarantineReason;

struct FileResult {
    Outcome outcome = Outcome::Quarantined;
    std::filesystem::path input;
    std::filesystem::path output; ///< in the store or in quarantine
    std::string inputHash;        ///< SHA-256 of the input bytes (hex), as sha256sum prints it
    std::uint64_t bytes = 0;
    Actions actions;
    std::vector<QuarantineReason> reasons;
    bool fastPath = false; ///< header rewritten, pixel bytes copied verbatim
    // while Pending
    std::filesystem::path temporary;
    std::filesystem::path relative;
    std::string originalSeriesUid;
};

/// One file de-identified in memory (Anonymizer::deidentify): no file system touched. The file
/// to store is `header` followed by `pixels` (the input's own pixel element, copied verbatim);
/// the leak scan has already run on exactly those bytes.
struct Deidentified {
    /// Empty: clean, it may be stored. Otherwise why it goes to quarantine (every rule that applies).
    std::vector<QuarantineReason> reasons;
    /// The file reveals the arm through its series: what is stored of the series must go too.
    bool condemnsSeries = false;
    Actions actions;
    bool fastPath = false;   ///< header re-encoded, pixel element to be copied from the input
    std::string header;      ///< the de-identified file's bytes before the pixel element (all of them off the fast path)
    std::string_view pixels; ///< a view into the input: its pixel element to the end (fast path), else empty
    std::string originalSeriesUid;
    // where it goes in the store (store::seriesFolder)
    std::string pseudonym, studyDate, studyUid, modality, seriesNumber, seriesUid, sopUid;
    bool clean() const { return reasons.empty(); }
    std::size_t size() const { return header.size() + pixels.size(); }
};

/// Series-level facts gathered before de-identifying (arm-revealing series are quarantined whole).
struct SeriesVerdicts {
    std::map<std::string, QuarantineReason> bySeriesUid; ///< original SeriesInstanceUID -> reason
    std::mutex mutex;
};

struct Config {
    charter::Charter charter;
    Profile profile;
    /// Which text may reach the store (assets/deid/text-allow-list.tsv + the descriptor
    /// vocabulary + the charter's additions): required, the anonymizer refuses to start without.
    TextPolicy text;
    Enrolment enrolment;
    std::filesystem::path store;
    std::filesystem::path quarantine;
    std::filesystem::path auditLog;
    /// Durability: every stored file is on disk before it is renamed into the store. Either each
    /// file is fdatasync'ed (receive node), or process() leaves it Pending and commit() makes a
    /// whole batch durable with one syncfs before renaming it (folder import).
    bool durable = true;
    bool batchCommit = false;
};

/// De-identifies files into the store. Thread-safe: one instance serves all jobs.
class Anonymizer {
public:
    Anonymizer(Config config, KeyStore& key);
    ~Anonymizer();

    /// De-identifies one file: the store gets it (atomically, leak-scanned) or the quarantine
    /// gets its original bytes and a reason file. Never throws for bad input.
    FileResult process(const std::filesystem::path& input, const std::filesystem::path& relativeName, SeriesVerdicts& verdicts);
    /// The same pipeline with some quarantine rules overridden by the data manager's release
    /// (categories: arm-series, burned-in, secondary-capture, modality); de-identification,
    /// the allow-list and the leak scan always apply.
    FileResult process(const std::filesystem::path& input, const std::filesystem::path& relativeName, SeriesVerdicts& verdicts,
                       const std::set<std::string>& overrides);

    /// The whole de-identification of one file's bytes, in memory (Orthanc's DicomModification
    /// on a parsed file is the model): parse, the quarantine rules, the profile's actions, the
    /// trial's identity, encoding, and the leak scan on the encoded bytes. process() is this plus
    /// I/O (reading, the quarantine copy, the temporary file, durability, the rename); the fuzz
    /// target calls it directly. Never throws for bad input. Reads the series verdicts, does not
    /// change them (process() condemns the series when condemnsSeries says so).
    Deidentified deidentify(std::string_view bytes, SeriesVerdicts& verdicts, const std::set<std::string>& overrides = {});

    /// Makes a batch of Pending results durable (one syncfs) and renames them into the store;
    /// each becomes Stored, or Quarantined if its series was condemned meanwhile.
    void commit(std::vector<FileResult>& batch, SeriesVerdicts& verdicts);

    /// Condemns a series: records the verdict (later instances are quarantined) and moves what
    /// is already stored of it to quarantine (the original bytes when the input still exists).
    void retractSeries(const std::string& originalSeriesUid, const QuarantineReason& why, SeriesVerdicts& verdicts);

    /// Files that were stored and later retracted to quarantine, by category (for the summary).
    std::map<std::string, std::size_t> retracted() const;

    /// Appends one JSON line to the audit log (thread-safe, O_APPEND).
    void audit(const FileResult& r);
    /// Removes temporary files a killed run left in the store.
    static std::size_t removeStaleTemporaries(const std::filesystem::path& store);

    const Config& config() const { return config_; }
    KeyStore& key() { return key_; }

    struct Impl;

private:
    /// deidentify() with the per-phase timer of process() (an internal PhaseTimer).
    Deidentified deidentifyTimed(std::string_view bytes, SeriesVerdicts& verdicts, const std::set<std::string>& overrides,
                                 void* phaseTimer);
    Config config_;
    KeyStore& key_;
    std::unique_ptr<Impl> impl_;
};

/// Finds the input files under a folder: every regular file (extension or not), plus files
/// referenced by DICOMDIRs (missing ones are reported). DICOMDIR files themselves are not
/// images and are listed separately.
struct InputSet {
    std::vector<std::filesystem::path> files;
    std::vector<std::filesystem::path> dicomdirs;
    std::vector<std::string> missingReferences;
};
InputSet findInputs(const std::filesystem::path& root);

struct RunSummary {
    std::size_t filesIn = 0, stored = 0, quarantined = 0;
    std::uint64_t bytesIn = 0;
    std::map<std::string, std::size_t> quarantinedByCategory;
    std::vector<std::string> missingReferences; ///< files a DICOMDIR lists that the drop lacks
    double seconds = 0;
};

/// The folder import: finds inputs, gathers series verdicts, de-identifies with `jobs` threads.
RunSummary runImport(Anonymizer& anonymizer, const std::filesystem::path& in, int jobs,
                     const std::function<void(const RunSummary&, std::size_t total)>& progress);

/// Default locations beside the store (never inside it).
std::filesystem::path defaultKeyPath(const std::filesystem::path& store);
std::filesystem::path defaultAuditPath(const std::filesystem::path& store);

/// Loads the profile table from assets/deid, searching from the executable's and the source tree.
std::filesystem::path findAsset(const std::string& relative);

} // namespace anon
