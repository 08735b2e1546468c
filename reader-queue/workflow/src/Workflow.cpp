#include "workflow/Workflow.h"

#include <algorithm>

namespace workflow {

namespace {

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

template <class S>
Transition<S> bad(S s, const char* rule, std::string message) {
    return Transition<S>::refuse(s, rule, std::move(message));
}

} // namespace

const char* roleName(Role r) {
    switch (r) {
    case Role::Reader: return "reader";
    case Role::Adjudicator: return "adjudicator";
    case Role::Manager: return "trial manager";
    case Role::Administrator: return "administrator";
    case Role::DataManager: return "data manager";
    }
    return "?";
}

const char* name(TimepointState s) {
    switch (s) {
    case TimepointState::Registered: return "registered";
    case TimepointState::Accepted: return "accepted";
    case TimepointState::Rejected: return "rejected";
    }
    return "?";
}
const char* name(TimepointEvent e) {
    switch (e) {
    case TimepointEvent::QcAccept: return "QC accept";
    case TimepointEvent::QcReject: return "QC reject";
    case TimepointEvent::Resubmitted: return "resubmitted";
    }
    return "?";
}
const char* name(ReadState s) {
    switch (s) {
    case ReadState::Waiting: return "waiting";
    case ReadState::Open: return "open";
    case ReadState::Draft: return "draft";
    case ReadState::Signed: return "signed";
    case ReadState::ReopenRequested: return "reopen requested";
    }
    return "?";
}
const char* name(ReadEvent e) {
    switch (e) {
    case ReadEvent::Offer: return "offer";
    case ReadEvent::Save: return "save";
    case ReadEvent::Sign: return "sign";
    case ReadEvent::RequestReopen: return "request reopen";
    case ReadEvent::ApproveReopen: return "approve reopen";
    case ReadEvent::DenyReopen: return "deny reopen";
    case ReadEvent::Withdraw: return "withdraw";
    }
    return "?";
}
const char* name(AdjudicationState s) {
    switch (s) {
    case AdjudicationState::AwaitingReads: return "awaiting reads";
    case AdjudicationState::NotNeeded: return "not needed";
    case AdjudicationState::Open: return "open";
    case AdjudicationState::Decided: return "decided";
    }
    return "?";
}
const char* name(AdjudicationEvent e) {
    switch (e) {
    case AdjudicationEvent::ReadsComplete: return "reads complete";
    case AdjudicationEvent::ReadReopened: return "read reopened";
    case AdjudicationEvent::Decide: return "decide";
    }
    return "?";
}

Transition<TimepointState> next(TimepointState s, TimepointEvent e, const TimepointContext& c) {
    using S = TimepointState;
    switch (e) {
    case TimepointEvent::QcAccept:
    case TimepointEvent::QcReject:
        if (c.actor != Role::Manager)
            return bad(s, "ROLE", std::string("QC is a trial manager's decision, not a ") + roleName(c.actor) + "'s");
        if (s != S::Registered)
            return bad(s, "QC_DONE", std::string("the timepoint is already ") + name(s) + ": QC happens once per delivery");
        if (e == TimepointEvent::QcReject && blank(c.reason)) return bad(s, "REASON_REQUIRED", "rejecting a timepoint needs a reason");
        return Transition<S>::to(e == TimepointEvent::QcAccept ? S::Accepted : S::Rejected);
    case TimepointEvent::Resubmitted:
        if (s != S::Rejected)
            return bad(s, "NOT_REJECTED", std::string("only a rejected timepoint takes a new delivery; this one is ") + name(s));
        if (c.anyReadSigned) return bad(s, "READ_SIGNED", "a reader signed this timepoint: a new delivery needs its read reopened first");
        return Transition<S>::to(S::Registered);
    }
    return bad(s, "UNKNOWN_EVENT", "unknown event");
}

Transition<ReadState> next(ReadState s, ReadEvent e, const ReadContext& c) {
    using S = ReadState;
    const bool reader = c.actor == Role::Reader && c.actorIsAssignedReader;
    auto notYours = [&] {
        return bad(s, "ROLE",
                   c.actor == Role::Reader ? std::string("this read belongs to another reader")
                                           : std::string("only the assigned reader acts on a read, not a ") + roleName(c.actor));
    };
    switch (e) {
    case ReadEvent::Offer:
        if (s != S::Waiting) return bad(s, "ALREADY_OFFERED", std::string("the read is already ") + name(s));
        if (!c.timepointAccepted) return bad(s, "NOT_QCED", "the timepoint has not passed QC");
        if (!c.previousSigned) return bad(s, "IN_ORDER", "timepoints are read in order: the previous timepoint is not signed");
        return Transition<S>::to(S::Open);
    case ReadEvent::Save:
        if (!reader) return notYours();
        if (s != S::Open && s != S::Draft)
            return bad(s, s == S::Signed || s == S::ReopenRequested ? "LOCKED" : "READ_NOT_OPEN",
                       std::string("the read is ") + name(s) + (s == S::Signed ? ": signed reads are locked" : ""));
        return Transition<S>::to(S::Draft);
    case ReadEvent::Sign:
        if (!reader) return notYours();
        if (s != S::Draft) return bad(s, s == S::Signed ? "LOCKED" : "NOTHING_TO_SIGN", std::string("the read is ") + name(s));
        if (!c.complete) return bad(s, "INCOMPLETE", "every baseline lesion must be answered (and the baseline valid) before signing");
        return Transition<S>::to(S::Signed);
    case ReadEvent::RequestReopen:
        if (!reader) return notYours();
        if (s != S::Signed) return bad(s, "NOT_SIGNED", std::string("only a signed read is reopened; this one is ") + name(s));
        if (blank(c.reason)) return bad(s, "REASON_REQUIRED", "reopening a signed read needs a reason");
        if (c.laterSigned) return bad(s, "LATER_SIGNED", "a later timepoint is signed: reopen the latest signed timepoint first");
        if (c.adjudicated) return bad(s, "ADJUDICATED", "the subject's adjudication is decided: its reads are final");
        return Transition<S>::to(S::ReopenRequested);
    case ReadEvent::ApproveReopen:
    case ReadEvent::DenyReopen:
        if (c.actor != Role::Manager) return bad(s, "ROLE", std::string("a trial manager approves reopening, not a ") + roleName(c.actor));
        if (s != S::ReopenRequested) return bad(s, "NO_REQUEST", std::string("no reopen request: the read is ") + name(s));
        if (blank(c.reason)) return bad(s, "REASON_REQUIRED", "approving or denying a reopen needs a reason");
        return Transition<S>::to(e == ReadEvent::ApproveReopen ? S::Draft : S::Signed);
    case ReadEvent::Withdraw:
        if (c.actor != Role::Manager)
            return bad(s, "ROLE", std::string("a trial manager withdraws a timepoint, not a ") + roleName(c.actor));
        if (s == S::Signed || s == S::ReopenRequested) return bad(s, "READ_SIGNED", "a signed read is not withdrawn: reopen it first");
        if (s == S::Waiting) return bad(s, "NOT_OFFERED", "the read was not offered");
        return Transition<S>::to(S::Waiting);
    }
    return bad(s, "UNKNOWN_EVENT", "unknown event");
}

Transition<AdjudicationState> next(AdjudicationState s, AdjudicationEvent e, const AdjudicationContext& c) {
    using S = AdjudicationState;
    switch (e) {
    case AdjudicationEvent::ReadsComplete:
        if (s == S::Decided) return bad(s, "DECIDED", "the adjudication is decided");
        return Transition<S>::to(c.triggered ? S::Open : S::NotNeeded);
    case AdjudicationEvent::ReadReopened:
        if (s == S::Decided) return bad(s, "DECIDED", "the adjudication is decided: its reads are final");
        return Transition<S>::to(S::AwaitingReads);
    case AdjudicationEvent::Decide:
        if (c.actor != Role::Adjudicator || !c.actorIsAssignedAdjudicator)
            return bad(s, "ROLE", "only the adjudicator assigned to the subject decides");
        if (s != S::Open) return bad(s, "NOT_OPEN", std::string("the adjudication is ") + name(s));
        if (c.chosenReader != 1 && c.chosenReader != 2) return bad(s, "CHOICE", "choose reader 1 or reader 2");
        if (blank(c.rationale)) return bad(s, "RATIONALE_REQUIRED", "a decision needs a written rationale");
        return Transition<S>::to(S::Decided);
    }
    return bad(s, "UNKNOWN_EVENT", "unknown event");
}

} // namespace workflow
