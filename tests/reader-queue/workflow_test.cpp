// The workflow state machines: every state x event with all guards satisfied (the whole
// transition table, allowed and forbidden), then each guard broken on its own.
#include "workflow/Workflow.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <tuple>

using namespace workflow;

namespace {

constexpr TimepointState kTpStates[] = {TimepointState::Registered, TimepointState::Accepted, TimepointState::Rejected};
constexpr TimepointEvent kTpEvents[] = {TimepointEvent::QcAccept, TimepointEvent::QcReject, TimepointEvent::Resubmitted};
constexpr ReadState kReadStates[] = {ReadState::Waiting, ReadState::Open, ReadState::Draft, ReadState::Signed, ReadState::ReopenRequested};
constexpr ReadEvent kReadEvents[] = {ReadEvent::Offer,         ReadEvent::Save,       ReadEvent::Sign,    ReadEvent::RequestReopen,
                                     ReadEvent::ApproveReopen, ReadEvent::DenyReopen, ReadEvent::Withdraw};
constexpr AdjudicationState kAdjStates[] = {AdjudicationState::AwaitingReads, AdjudicationState::NotNeeded, AdjudicationState::Open,
                                            AdjudicationState::Decided};
constexpr AdjudicationEvent kAdjEvents[] = {AdjudicationEvent::ReadsComplete, AdjudicationEvent::ReadReopened, AdjudicationEvent::Decide};

TimepointContext tpContext(TimepointEvent) {
    TimepointContext c;
    c.actor = Role::Manager;
    c.reason = "series 3 is a localizer only";
    return c;
}

/// The actor each read event belongs to, with every guard satisfied.
ReadContext readContext(ReadEvent e) {
    ReadContext c;
    const bool manager = e == ReadEvent::ApproveReopen || e == ReadEvent::DenyReopen || e == ReadEvent::Withdraw;
    c.actor = manager ? Role::Manager : Role::Reader;
    c.actorIsAssignedReader = !manager;
    c.timepointAccepted = true;
    c.previousSigned = true;
    c.complete = true;
    c.reason = "mis-measured T02";
    return c;
}

AdjudicationContext adjContext() {
    AdjudicationContext c;
    c.actor = Role::Adjudicator;
    c.actorIsAssignedAdjudicator = true;
    c.triggered = true;
    c.chosenReader = 2;
    c.rationale = "reader 1 missed the new liver lesion at week 16";
    return c;
}

} // namespace

TEST(TimepointWorkflow, WholeTable) {
    using S = TimepointState;
    using E = TimepointEvent;
    const std::map<std::pair<S, E>, S> allowed = {
        {{S::Registered, E::QcAccept}, S::Accepted},
        {{S::Registered, E::QcReject}, S::Rejected},
        {{S::Rejected, E::Resubmitted}, S::Registered},
    };
    for (S s : kTpStates) {
        for (E e : kTpEvents) {
            const auto t = next(s, e, tpContext(e));
            auto it = allowed.find({s, e});
            SCOPED_TRACE(std::string(name(s)) + " + " + name(e));
            if (it != allowed.end()) {
                EXPECT_TRUE(t.ok) << t.rule << ": " << t.message;
                EXPECT_EQ(t.state, it->second);
            } else {
                EXPECT_FALSE(t.ok);
                EXPECT_EQ(t.state, s) << "a refusal leaves the state as it was";
                EXPECT_FALSE(t.rule.empty());
                EXPECT_FALSE(t.message.empty());
            }
        }
    }
}

TEST(TimepointWorkflow, EachGuard) {
    auto c = tpContext(TimepointEvent::QcAccept);
    for (Role r : {Role::Reader, Role::Adjudicator, Role::Administrator}) {
        c.actor = r;
        EXPECT_EQ(next(TimepointState::Registered, TimepointEvent::QcAccept, c).rule, "ROLE");
    }
    c = tpContext(TimepointEvent::QcReject);
    c.reason = "  ";
    EXPECT_EQ(next(TimepointState::Registered, TimepointEvent::QcReject, c).rule, "REASON_REQUIRED");
    c = tpContext(TimepointEvent::Resubmitted);
    c.anyReadSigned = true;
    EXPECT_EQ(next(TimepointState::Rejected, TimepointEvent::Resubmitted, c).rule, "READ_SIGNED");
}

TEST(ReadWorkflow, WholeTable) {
    using S = ReadState;
    using E = ReadEvent;
    const std::map<std::pair<S, E>, S> allowed = {
        {{S::Waiting, E::Offer}, S::Open},
        {{S::Open, E::Save}, S::Draft},
        {{S::Draft, E::Save}, S::Draft},
        {{S::Draft, E::Sign}, S::Signed},
        {{S::Signed, E::RequestReopen}, S::ReopenRequested},
        {{S::ReopenRequested, E::ApproveReopen}, S::Draft},
        {{S::ReopenRequested, E::DenyReopen}, S::Signed},
        {{S::Open, E::Withdraw}, S::Waiting},
        {{S::Draft, E::Withdraw}, S::Waiting},
    };
    int allowedSeen = 0;
    for (S s : kReadStates) {
        for (E e : kReadEvents) {
            const auto t = next(s, e, readContext(e));
            auto it = allowed.find({s, e});
            SCOPED_TRACE(std::string(name(s)) + " + " + name(e));
            if (it != allowed.end()) {
                ++allowedSeen;
                EXPECT_TRUE(t.ok) << t.rule << ": " << t.message;
                EXPECT_EQ(t.state, it->second);
            } else {
                EXPECT_FALSE(t.ok);
                EXPECT_EQ(t.state, s);
                EXPECT_FALSE(t.rule.empty());
            }
        }
    }
    EXPECT_EQ(allowedSeen, static_cast<int>(allowed.size()));
}

TEST(ReadWorkflow, SignedReadsAreLocked) {
    auto c = readContext(ReadEvent::Save);
    EXPECT_EQ(next(ReadState::Signed, ReadEvent::Save, c).rule, "LOCKED");
    EXPECT_EQ(next(ReadState::ReopenRequested, ReadEvent::Save, c).rule, "LOCKED");
    EXPECT_EQ(next(ReadState::Signed, ReadEvent::Sign, readContext(ReadEvent::Sign)).rule, "LOCKED");
}

TEST(ReadWorkflow, EachGuard) {
    // in order and after QC
    auto c = readContext(ReadEvent::Offer);
    c.timepointAccepted = false;
    EXPECT_EQ(next(ReadState::Waiting, ReadEvent::Offer, c).rule, "NOT_QCED");
    c = readContext(ReadEvent::Offer);
    c.previousSigned = false;
    EXPECT_EQ(next(ReadState::Waiting, ReadEvent::Offer, c).rule, "IN_ORDER");
    // another reader, or another role, never acts on a reader's read
    for (ReadEvent e : {ReadEvent::Save, ReadEvent::Sign, ReadEvent::RequestReopen}) {
        c = readContext(e);
        c.actorIsAssignedReader = false;
        const ReadState from = e == ReadEvent::RequestReopen ? ReadState::Signed : ReadState::Draft;
        EXPECT_EQ(next(from, e, c).rule, "ROLE") << name(e);
        for (Role r : {Role::Adjudicator, Role::Manager, Role::Administrator}) {
            c = readContext(e);
            c.actor = r;
            EXPECT_EQ(next(from, e, c).rule, "ROLE") << name(e) << " by " << roleName(r);
        }
    }
    // signing needs a complete read
    c = readContext(ReadEvent::Sign);
    c.complete = false;
    EXPECT_EQ(next(ReadState::Draft, ReadEvent::Sign, c).rule, "INCOMPLETE");
    // reopening: a reason, the latest signed timepoint, not after adjudication
    c = readContext(ReadEvent::RequestReopen);
    c.reason = "";
    EXPECT_EQ(next(ReadState::Signed, ReadEvent::RequestReopen, c).rule, "REASON_REQUIRED");
    c = readContext(ReadEvent::RequestReopen);
    c.laterSigned = true;
    EXPECT_EQ(next(ReadState::Signed, ReadEvent::RequestReopen, c).rule, "LATER_SIGNED");
    c = readContext(ReadEvent::RequestReopen);
    c.adjudicated = true;
    EXPECT_EQ(next(ReadState::Signed, ReadEvent::RequestReopen, c).rule, "ADJUDICATED");
    // the manager approves, with a reason; nobody else does
    for (ReadEvent e : {ReadEvent::ApproveReopen, ReadEvent::DenyReopen}) {
        c = readContext(e);
        c.reason = " ";
        EXPECT_EQ(next(ReadState::ReopenRequested, e, c).rule, "REASON_REQUIRED");
        for (Role r : {Role::Reader, Role::Adjudicator, Role::Administrator}) {
            c = readContext(e);
            c.actor = r;
            c.actorIsAssignedReader = r == Role::Reader;
            EXPECT_EQ(next(ReadState::ReopenRequested, e, c).rule, "ROLE") << roleName(r);
        }
    }
    c = readContext(ReadEvent::Withdraw);
    c.actor = Role::Reader;
    EXPECT_EQ(next(ReadState::Open, ReadEvent::Withdraw, c).rule, "ROLE");
}

TEST(AdjudicationWorkflow, WholeTable) {
    using S = AdjudicationState;
    using E = AdjudicationEvent;
    const std::map<std::pair<S, E>, S> allowed = {
        {{S::AwaitingReads, E::ReadsComplete}, S::Open},
        {{S::NotNeeded, E::ReadsComplete}, S::Open},
        {{S::Open, E::ReadsComplete}, S::Open},
        {{S::AwaitingReads, E::ReadReopened}, S::AwaitingReads},
        {{S::NotNeeded, E::ReadReopened}, S::AwaitingReads},
        {{S::Open, E::ReadReopened}, S::AwaitingReads},
        {{S::Open, E::Decide}, S::Decided},
    };
    for (S s : kAdjStates) {
        for (E e : kAdjEvents) {
            const auto t = next(s, e, adjContext());
            auto it = allowed.find({s, e});
            SCOPED_TRACE(std::string(name(s)) + " + " + name(e));
            if (it != allowed.end()) {
                EXPECT_TRUE(t.ok) << t.rule << ": " << t.message;
                EXPECT_EQ(t.state, it->second);
            } else {
                EXPECT_FALSE(t.ok);
                EXPECT_EQ(t.state, s);
                EXPECT_FALSE(t.rule.empty());
            }
        }
    }
}

TEST(AdjudicationWorkflow, EachGuard) {
    auto c = adjContext();
    c.triggered = false;
    EXPECT_EQ(next(AdjudicationState::AwaitingReads, AdjudicationEvent::ReadsComplete, c).state, AdjudicationState::NotNeeded);
    c = adjContext();
    c.actorIsAssignedAdjudicator = false;
    EXPECT_EQ(next(AdjudicationState::Open, AdjudicationEvent::Decide, c).rule, "ROLE");
    for (Role r : {Role::Reader, Role::Manager, Role::Administrator}) {
        c = adjContext();
        c.actor = r;
        EXPECT_EQ(next(AdjudicationState::Open, AdjudicationEvent::Decide, c).rule, "ROLE") << roleName(r);
    }
    c = adjContext();
    c.chosenReader = 3;
    EXPECT_EQ(next(AdjudicationState::Open, AdjudicationEvent::Decide, c).rule, "CHOICE");
    c = adjContext();
    c.rationale = "\t";
    EXPECT_EQ(next(AdjudicationState::Open, AdjudicationEvent::Decide, c).rule, "RATIONALE_REQUIRED");
}

TEST(ReadWorkflow, AReaderGoesThroughASubjectInOrder) {
    // baseline offered, saved, signed; week 8 only opens after that; a reopen goes through a manager
    ReadState bl = ReadState::Waiting, w8 = ReadState::Waiting;
    ReadContext c = readContext(ReadEvent::Offer);
    c.previousSigned = false; // week 8 before the baseline is signed
    EXPECT_FALSE(next(w8, ReadEvent::Offer, c).ok);
    c.previousSigned = true; // the baseline has no previous timepoint
    bl = next(bl, ReadEvent::Offer, c).state;
    bl = next(bl, ReadEvent::Save, readContext(ReadEvent::Save)).state;
    bl = next(bl, ReadEvent::Sign, readContext(ReadEvent::Sign)).state;
    ASSERT_EQ(bl, ReadState::Signed);
    w8 = next(w8, ReadEvent::Offer, readContext(ReadEvent::Offer)).state;
    ASSERT_EQ(w8, ReadState::Open);
    bl = next(bl, ReadEvent::RequestReopen, readContext(ReadEvent::RequestReopen)).state;
    bl = next(bl, ReadEvent::ApproveReopen, readContext(ReadEvent::ApproveReopen)).state;
    EXPECT_EQ(bl, ReadState::Draft);
}
