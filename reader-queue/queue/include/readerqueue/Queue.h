#pragma once
// The reading queue: users and roles, the store's timepoints, QC, balanced reader assignment,
// each reader's worklist, drafts and electronic signatures. Every operation checks the
// caller's role, asks reader-queue/workflow whether the transition is allowed, runs in one
// transaction and writes the audit trail; every refusal is audited too.
#include "charter/Charter.h"
#include "readerqueue/Database.h"
#include "read/ReadData.h"
#include "recist/Endpoints.h"
#include "workflow/Workflow.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rq {

/// A refused operation: rule (e.g. "ROLE", "IN_ORDER", "LOCKED") and a reason.
struct Refused : std::runtime_error {
    Refused(std::string rule, const std::string& message) : std::runtime_error(message), rule(std::move(rule)) {}
    std::string rule;
};

struct Session {
    std::string user;
    workflow::Role role = workflow::Role::Reader;
};

workflow::Role roleFromName(const std::string& name); ///< reader, adjudicator, manager, administrator
std::string roleKey(workflow::Role r);

/// The trial charter when none is named: $RELUTH_CHARTER, else the source tree's
/// assets/charters/reluth.json next to build/bin.
std::filesystem::path defaultCharterPath();

class Queue {
public:
    /// A new trial database takes the charter (stored with the trial); an existing one must
    /// have been created with the same charter version (CHARTER_MISMATCH otherwise).
    Queue(std::unique_ptr<Database> db, const std::filesystem::path& charterFile);
    /// Opens an existing trial database with the charter stored in it (NO_TRIAL when none).
    explicit Queue(std::unique_ptr<Database> db);
    Database& db() { return *db_; }
    const charter::Charter& charter() const { return charter_; }

    // users -----------------------------------------------------------------------------------
    /// An administrator adds users; the very first user (an administrator) needs no session.
    void addUser(const Session* by, const std::string& name, workflow::Role role, const std::string& password);
    /// Argon2id password check; 5 failures in a row lock the account. Audited either way.
    Session login(const std::string& name, const std::string& password);

    // timepoints ------------------------------------------------------------------------------
    struct ImportResult {
        int subjects = 0, timepoints = 0;
        std::vector<std::string> problems; ///< studies not registered, or that changed a timepoint being read
        std::vector<std::string> notes;    ///< how visits were assigned when the schedule could not say
    };
    /// Registers the anonymizer store's subjects and timepoints (STORE/<pseudonym>/<date>_<study>/<series>/).
    ImportResult importStore(const Session& by, const std::filesystem::path& store);
    void qc(const Session& by, const std::string& subject, int ordinal, bool accept, const std::string& reason);
    /// Loads randomization (and death) dates: CSV with a header naming USUBJID and RANDDT
    /// (DTHDT optional; STUDYID, if present, must be the trial's). All rows or none; every bad
    /// row named. Returns how many subjects changed.
    int loadSubjectDates(const Session& manager, const std::filesystem::path& csv);
    /// The subject's reading is over (end of imaging follow-up): the per-subject adjudication
    /// triggers are evaluated once both readers have signed every timepoint. Also happens by
    /// itself when both readers signed the charter's last planned follow-up.
    void closeSubject(const Session& manager, const std::string& subject, const std::string& reason);

    // assignment ------------------------------------------------------------------------------
    /// Gives every subject without readers the readers with the fewest subjects; returns how many subjects.
    int assignReaders(const Session& by);

    // reading ---------------------------------------------------------------------------------
    struct ReadItem {
        std::string subject;
        int slot = 0;
        int ordinal = 0;
        std::string studyDate;
        std::string state;
        std::string dueDate; ///< YYYY-MM-DD: the day it was offered + the charter's read_turnaround_days (empty: none)
    };
    /// The caller's own reads that are open, in draft or awaiting a reopen decision (never another
    /// reader's), first `limit` of them by subject and timepoint: what the reader's home shows.
    std::vector<ReadItem> worklist(const Session& reader, int limit = 100);
    /// What the caller may call each subject they see: the reading ID (0012,0042) for readers (their
    /// own subjects) and adjudicators (subjects with an adjudication), never the subject ID; for a
    /// manager or administrator every subject's. subject -> reading ID.
    std::map<std::string, std::string> readingIds(const Session& who);
    void saveDraft(const Session& reader, const std::string& subject, int ordinal, const std::string& payload);
    /// Electronic signature: the password again and the meaning of the signature (21 CFR 11.50, 11.200).
    void sign(const Session& reader, const std::string& subject, int ordinal, const std::string& password, const std::string& meaning);

    /// The caller's own read of a subject (never the other reader's): every timepoint with its
    /// state, payload and, once signed, the engine's results. What the viewer opens.
    struct OwnTimepoint {
        int ordinal = 0;
        std::string visit, studyDate, state, payload, result;
        std::string visitNum; ///< SDTM VISITNUM ("3", unscheduled "3.1")
    };
    struct OwnRead {
        std::string subject;
        SubjectDates dates;
        std::vector<OwnTimepoint> timepoints;
    };
    OwnRead ownRead(const Session& reader, const std::string& subject);

    /// What the caller may see of a subject's images: the registered timepoints (by ordinal, with
    /// their visit and study folders, relative to the store). The queue decides, the screens
    /// ask: a reader gets their own timepoints up to the one they read next (open, in draft or
    /// awaiting a reopen decision; never one still waiting, never a later one); an adjudicator
    /// the timepoints through the round of the subject's adjudication they hold; a manager,
    /// administrator or data manager every registered timepoint. Anyone else: ROLE.
    struct VisibleTimepoint {
        int ordinal = 0;
        std::string visit, visitNum, visitId, studyDate; ///< visitId: the DICOM time point ID of the visit (V3)
        std::vector<std::string> folders;                ///< the store's study folders of this timepoint
    };
    std::vector<VisibleTimepoint> visibleTimepoints(const Session& who, const std::string& subject);

    /// A token to fetch one study folder's images from the trial's image server: the gate in front
    /// of the server (reader-queue gate) asks checkImageToken() on every request. Issued only for a
    /// folder visibleTimepoints() shows the caller (ROLE / NOT_VISIBLE otherwise, audited); valid
    /// for kImageTokenHours, until revoked, and only while the queue still shows the folder. The
    /// token itself is returned once; the database keeps its SHA-256.
    static constexpr int kImageTokenHours = 8;
    std::string issueImageToken(const Session& who, const std::string& folder);
    /// Revokes every image token of the caller (sign-out); returns how many were live.
    int revokeImageTokens(const Session& who);
    /// The gate's question. Refused (TOKEN) when the token is unknown, expired or revoked, or its
    /// folder is no longer open to its user.
    struct ImageGrant {
        Session who;
        std::string folder; ///< "<pseudonym>/<date>_<uid tail>" as the store and timepoint_studies name it
    };
    ImageGrant checkImageToken(const std::string& token);

    /// The signed timepoint's TID 1500 report (DICOM Part 10 bytes), put in the outbox that
    /// report-push --from-queue empties to the PACS: only by the read's own reader, once it is
    /// signed, an SR of this subject (NOT_SIGNED / NOT_A_REPORT otherwise). Queuing the same
    /// report again changes nothing. Returns its SOP Instance UID.
    std::string queueReport(const Session& reader, const std::string& subject, int ordinal, const std::string& dicom);

    /// The reader asks to change their signed read (the latest signed timepoint), with a reason.
    void requestReopen(const Session& reader, const std::string& subject, int ordinal, const std::string& reason);
    /// A manager approves (the read goes back to draft; the reader's later open reads wait again)
    /// or denies (it stays signed), with a reason. slot: 1 or 2 (Reader 1 / Reader 2).
    void decideReopen(const Session& manager, const std::string& subject, int slot, int ordinal, bool approve, const std::string& reason);

    // adjudication ----------------------------------------------------------------------------
    struct AdjudicationItem {
        std::string subject;
        int round = 0;
        int throughOrdinal = 0;
        std::string state, adjudicator, triggers; ///< triggers: JSON list of {trigger, detail}
    };
    /// Open adjudications the caller may take (unclaimed) or holds, oldest first.
    std::vector<AdjudicationItem> adjudicationQueue(const Session& adjudicator);
    /// Takes the oldest unclaimed open adjudication (or the given subject's); each task goes to
    /// one adjudicator only, even when several claim at once. Empty when there is none.
    std::optional<AdjudicationItem> claimAdjudication(const Session& adjudicator, const std::string& subject = {});
    /// What the adjudicator compares: both reads labelled Reader 1 / Reader 2 (never the readers'
    /// names), through the round's timepoint, with the engine's results and the triggers.
    struct CaseRead {
        std::string label; ///< "Reader 1" / "Reader 2"
        std::vector<TimepointRead> timepoints;
        std::string result; ///< engine results JSON
    };
    struct AdjudicationCase {
        AdjudicationItem item;
        std::vector<CaseRead> reads;
    };
    AdjudicationCase adjudicationCase(const Session& adjudicator, const std::string& subject);
    /// The adjudicator's decision: Reader 1 or 2 with a written rationale, signed (password and meaning).
    void decide(const Session& adjudicator, const std::string& subject, int chosenReader, const std::string& rationale,
                const std::string& password, const std::string& meaning);

    // data manager ----------------------------------------------------------------------------
    /// The data manager's decision about a quarantined file (release or discard), with a required
    /// reason, in the hash-chained audit trail: `act` does the file operation and returns what
    /// became of it; it runs inside the audited transaction (a failure is recorded as a refusal).
    void decideQuarantined(const Session& dataManager, const std::string& file, const std::string& sha256, bool release,
                           const std::string& reason, const std::function<std::string()>& act);

    // manager ---------------------------------------------------------------------------------
    struct Backlog {
        std::map<std::string, int> timepoints;                      ///< by QC state
        std::map<std::string, int> reads;                           ///< by read state
        std::map<std::string, std::map<std::string, int>> byReader; ///< reader -> read state -> count
        std::map<int, std::map<std::string, int>> byTimepoint;      ///< timepoint ordinal -> read state -> count
        std::map<std::string, int> adjudications;                   ///< latest round of each subject, by state
    };
    Backlog backlog(const Session& manager);

    /// received -> QC -> read -> adjudicated, in hours: median and 90th percentile of each stage.
    struct Stage {
        std::string name;
        int count = 0;
        double medianHours = 0, p90Hours = 0;
    };
    std::vector<Stage> turnaround(const Session& manager);

    struct ReaderStats {
        std::string reader;
        int subjects = 0, signedReads = 0, pendingReads = 0; ///< pending: open, draft, reopen requested
        int adjudicatedSubjects = 0, chosen = 0;             ///< decided adjudications of their subjects; chosen by the adjudicator
        double adjudicationRate = 0, selectionRate = 0;      ///< adjudicated / subjects with an evaluation; chosen / adjudicated
        /// Calipers of their signed reads by how they were made: by hand, one-click proposals
        /// accepted unchanged, proposals edited before accepting.
        int manualCalipers = 0, proposalsAccepted = 0, proposalsEdited = 0;
    };
    std::vector<ReaderStats> readers(const Session& manager);

    /// Every read of one subject (Reader 1 / 2 by slot, never by name) with its state: what a
    /// manager sees before closing a subject's reading.
    struct SubjectRead {
        int slot = 0, ordinal = 0;
        std::string state;
    };
    std::vector<SubjectRead> subjectReads(const Session& manager, const std::string& subject);

    /// The backlog over time, one point per change (ISO UTC time): reads due (of timepoints
    /// accepted at QC, one per reader), signed, and adjudications open.
    struct BacklogPoint {
        std::string at;
        int readsDue = 0, readsSigned = 0, adjudicationsOpen = 0;
    };
    std::vector<BacklogPoint> backlogHistory(const Session& manager);

    /// The accepted read of each subject whose results are accepted (the adjudicator's choice,
    /// or Reader 1 when the reads needed no adjudication), with the engine's results.
    struct AcceptedRead {
        std::string subject;
        bool adjudicated = false;
        recist::SubjectResult result;
        std::optional<recist::TimeToEvent> rpfs; ///< with the charter's censoring options (none without a randomization date)
    };
    std::vector<AcceptedRead> acceptedResults(const Session& manager);
    /// Subjects with a randomization date (the endpoints' population).
    int randomizedSubjects(const Session& manager);

    /// Writes the SDTM files: TU/TR/RS of both readers (RADIOLOGIST 1/2, TRACPTFL/RSACPTFL),
    /// accepted/TU,TR,RS (the accepted read per subject: ADJUDICATOR when adjudicated),
    /// SUBJ.csv, config.json (the engine's inputs) and ADJ.csv (decisions with rationale).
    /// Each file is written to a temporary name and renamed. Returns the subjects exported.
    int exportSdtm(const Session& manager, const std::filesystem::path& dir);

private:
    void require(const Session& s, std::initializer_list<workflow::Role> roles, const std::string& operation);
    void refuse(const Session& s, const std::string& operation, const std::string& object, const std::string& rule,
                const std::string& message);
    void refreshOffers(const std::string& subject);
    /// The caller's slot on the subject; refuses (ROLE, audited) anyone but its assigned reader.
    int ownSlot(const Session& reader, const std::string& subject, const std::string& operation);
    /// The read's row (columns as named), or NO_READ; inside a transaction.
    std::vector<std::vector<std::string>> readRow(const std::string& subject, int slot, int ordinal, const std::string& columns);
    /// Evaluates the charter's triggers when both readers have signed the same timepoints.
    void evaluateAdjudication(const std::string& subject);
    std::vector<TimepointRead> signedTimepoints(const std::string& subject, int slot, int through);
    SubjectDates datesOf(const std::string& subject);
    /// The SDTM VISITNUM of a registered timepoint (its stored visit; by ordinal for older rows).
    std::string visitNumAt(const std::string& subject, int ordinal);
    /// The accepted read of a subject: slot 1/2 (0 when none yet), through which timepoint, adjudicated or not.
    struct Acceptance {
        int slot = 0, through = 0;
        bool adjudicated = false;
    };
    Acceptance acceptanceOf(const std::string& subject);
    void loadTrial(const std::string& charterText, const std::string& source);
    /// Appends an audit entry (inside a write transaction).
    void record(const std::string& user, const std::string& action, const std::string& object, const std::string& oldValue = {},
                const std::string& newValue = {}, const std::string& reason = {});
    /// Runs f in one transaction; a Refused thrown inside is rolled back, then audited and rethrown.
    void audited(const Session& s, const std::string& operation, const std::string& object, const std::function<void()>& f);
    std::unique_ptr<Database> db_;
    charter::Charter charter_;
    int readersPerSubject_ = 2;
};

} // namespace rq
