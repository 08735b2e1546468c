#pragma once
// The reading workflow as explicit state machines: pure functions next(state, event, context)
// that either give the new state or refuse with a rule name and a reason. No storage, no
// clock, no I/O: the queue records what these functions decide (and audits every refusal).
// Drawn in docs/workflow.md.
#include <string>
#include <string_view>

namespace workflow {

/// DataManager: unblinded like the key's owner; decides about quarantined files, never reads.
enum class Role { Reader, Adjudicator, Manager, Administrator, DataManager };
const char* roleName(Role r);

/// A refusal or a new state.
template <class State>
struct Transition {
    bool ok = false;
    State state{};
    std::string rule;    ///< e.g. "READ_NOT_OPEN" when refused
    std::string message; ///< one line a person can act on
    static Transition to(State s) { return {true, s, {}, {}}; }
    static Transition refuse(State s, std::string rule, std::string message) { return {false, s, std::move(rule), std::move(message)}; }
};

// ---------------------------------------------------------------------------------------------
// A subject's timepoint: registered when the anonymizer stores it, then QC'd by a manager.

enum class TimepointState { Registered, Accepted, Rejected };
enum class TimepointEvent {
    QcAccept,    ///< manager: every series usable
    QcReject,    ///< manager: with a reason (series unusable, wrong patient, ...)
    Resubmitted, ///< the anonymizer stored a corrected delivery of a rejected timepoint
};
const char* name(TimepointState s);
const char* name(TimepointEvent e);

struct TimepointContext {
    Role actor = Role::Manager;
    std::string reason;         ///< required for QcReject
    bool anyReadSigned = false; ///< a reader already signed this timepoint
};
Transition<TimepointState> next(TimepointState s, TimepointEvent e, const TimepointContext& c);

// ---------------------------------------------------------------------------------------------
// One reader's read of one timepoint of one subject.

enum class ReadState {
    Waiting,         ///< not offered yet: timepoint not accepted, or the previous one not signed
    Open,            ///< offered, nothing saved
    Draft,           ///< measurements saved (autosave), not signed
    Signed,          ///< signed and locked
    ReopenRequested, ///< the reader asked to change a signed read; waiting for a manager
};
enum class ReadEvent {
    Offer,         ///< the queue offers the timepoint (timepoint accepted, previous signed)
    Save,          ///< reader saves measurements
    Sign,          ///< reader signs (password + meaning of the signature)
    RequestReopen, ///< reader, with a reason
    ApproveReopen, ///< manager, with a reason: back to Draft
    DenyReopen,    ///< manager, with a reason: stays Signed
    Withdraw,      ///< the timepoint was rejected at QC after being offered: back to Waiting
};
const char* name(ReadState s);
const char* name(ReadEvent e);

struct ReadContext {
    Role actor = Role::Reader;
    bool actorIsAssignedReader = false; ///< the caller is the reader this read belongs to
    bool timepointAccepted = false;
    bool previousSigned = false; ///< this reader signed timepoint k-1 (true for the baseline)
    bool complete = false;       ///< every baseline lesion answered; baseline valid
    bool laterSigned = false;    ///< this reader signed a later timepoint of the subject
    bool adjudicated = false;    ///< the subject's adjudication is decided
    std::string reason;          ///< required for reopen events
};
Transition<ReadState> next(ReadState s, ReadEvent e, const ReadContext& c);

// ---------------------------------------------------------------------------------------------
// A subject's adjudication (2+1): opened by the charter's triggers once both reads are signed.

enum class AdjudicationState {
    AwaitingReads, ///< at least one read of the subject is not signed
    NotNeeded,     ///< both reads signed, no trigger fired
    Open,          ///< a trigger fired; waiting for the adjudicator
    Decided,       ///< the adjudicator chose a read, with a rationale
};
enum class AdjudicationEvent {
    ReadsComplete, ///< both readers signed every timepoint so far (triggers evaluated by the caller)
    ReadReopened,  ///< a signed read was reopened: results may change
    Decide,        ///< adjudicator: chooses reader 1 or 2 with a rationale
};
const char* name(AdjudicationState s);
const char* name(AdjudicationEvent e);

struct AdjudicationContext {
    Role actor = Role::Adjudicator;
    bool triggered = false; ///< for ReadsComplete: a charter trigger fired
    bool actorIsAssignedAdjudicator = false;
    int chosenReader = 0;  ///< 1 or 2 for Decide
    std::string rationale; ///< required for Decide
};
Transition<AdjudicationState> next(AdjudicationState s, AdjudicationEvent e, const AdjudicationContext& c);

} // namespace workflow
