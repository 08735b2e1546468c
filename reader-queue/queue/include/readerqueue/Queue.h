#pragma once
// The reading queue: users and roles, the store's timepoints, QC, balanced reader assignment,
// each reader's worklist, drafts and electronic signatures. Every operation checks the
// caller's role, asks reader-queue/workflow whether the transition is allowed, runs in one
// transaction and writes the audit trail; every refusal is audited too.
#include "readerqueue/Database.h"
#include "workflow/Workflow.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
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

class Queue {
public:
    Queue(std::unique_ptr<Database> db, int readersPerSubject);
    Database& db() { return *db_; }

    // users -----------------------------------------------------------------------------------
    /// An administrator adds users; the very first user (an administrator) needs no session.
    void addUser(const Session* by, const std::string& name, workflow::Role role, const std::string& password);
    /// Argon2id password check; 5 failures in a row lock the account. Audited either way.
    Session login(const std::string& name, const std::string& password);

    // timepoints ------------------------------------------------------------------------------
    struct ImportResult {
        int subjects = 0, timepoints = 0;
        std::vector<std::string> problems;
    };
    /// Registers the anonymizer store's subjects and timepoints (STORE/<pseudonym>/<date>_<study>/<series>/).
    ImportResult importStore(const Session& by, const std::filesystem::path& store);
    void qc(const Session& by, const std::string& subject, int ordinal, bool accept, const std::string& reason);

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
    };
    /// The caller's own reads that are open, in draft or awaiting a reopen decision (never another
    /// reader's), first `limit` of them by subject and timepoint: what the reader's home shows.
    std::vector<ReadItem> worklist(const Session& reader, int limit = 100);
    void saveDraft(const Session& reader, const std::string& subject, int ordinal, const std::string& payload);
    /// Electronic signature: the password again and the meaning of the signature (21 CFR 11.50, 11.200).
    void sign(const Session& reader, const std::string& subject, int ordinal, const std::string& password,
              const std::string& meaning);

    /// The reader asks to change their signed read (the latest signed timepoint), with a reason.
    void requestReopen(const Session& reader, const std::string& subject, int ordinal, const std::string& reason);
    /// A manager approves (the read goes back to draft; the reader's later open reads wait again)
    /// or denies (it stays signed), with a reason. slot: 1 or 2 (Reader 1 / Reader 2).
    void decideReopen(const Session& manager, const std::string& subject, int slot, int ordinal, bool approve,
                      const std::string& reason);

    // manager ---------------------------------------------------------------------------------
    struct Backlog {
        std::map<std::string, int> timepoints;                    ///< by QC state
        std::map<std::string, int> reads;                         ///< by read state
        std::map<std::string, std::map<std::string, int>> byReader; ///< reader -> read state -> count
    };
    Backlog backlog(const Session& manager);

private:
    void require(const Session& s, std::initializer_list<workflow::Role> roles, const std::string& operation);
    void refuse(const Session& s, const std::string& operation, const std::string& object, const std::string& rule,
                const std::string& message);
    void refreshOffers(const std::string& subject);
    /// Appends an audit entry (inside a write transaction).
    void record(const std::string& user, const std::string& action, const std::string& object,
                const std::string& oldValue = {}, const std::string& newValue = {}, const std::string& reason = {});
    /// Runs f in one transaction; a Refused thrown inside is rolled back, then audited and rethrown.
    void audited(const Session& s, const std::string& operation, const std::string& object, const std::function<void()>& f);
    std::unique_ptr<Database> db_;
    int readersPerSubject_;
};

} // namespace rq
