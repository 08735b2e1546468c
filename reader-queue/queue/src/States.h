#pragma once
// The workflow states as the database stores them (text keys), for the queue's sources.
#include "readerqueue/Database.h"
#include "workflow/Workflow.h"

#include <string>

namespace rq {

inline std::string readStateKey(workflow::ReadState s) {
    switch (s) {
    case workflow::ReadState::Waiting: return "waiting";
    case workflow::ReadState::Open: return "open";
    case workflow::ReadState::Draft: return "draft";
    case workflow::ReadState::Signed: return "signed";
    case workflow::ReadState::ReopenRequested: return "reopen_requested";
    }
    return "?";
}
inline workflow::ReadState readStateFrom(const std::string& k) {
    using S = workflow::ReadState;
    if (k == "open") return S::Open;
    if (k == "draft") return S::Draft;
    if (k == "signed") return S::Signed;
    if (k == "reopen_requested") return S::ReopenRequested;
    return S::Waiting;
}
inline std::string tpStateKey(workflow::TimepointState s) {
    switch (s) {
    case workflow::TimepointState::Registered: return "registered";
    case workflow::TimepointState::Accepted: return "accepted";
    case workflow::TimepointState::Rejected: return "rejected";
    }
    return "?";
}
inline workflow::TimepointState tpStateFrom(const std::string& k) {
    if (k == "accepted") return workflow::TimepointState::Accepted;
    if (k == "rejected") return workflow::TimepointState::Rejected;
    return workflow::TimepointState::Registered;
}

inline std::string adjStateKey(workflow::AdjudicationState s) {
    switch (s) {
    case workflow::AdjudicationState::AwaitingReads: return "awaiting_reads";
    case workflow::AdjudicationState::NotNeeded: return "not_needed";
    case workflow::AdjudicationState::Open: return "open";
    case workflow::AdjudicationState::Decided: return "decided";
    }
    return "?";
}
inline workflow::AdjudicationState adjStateFrom(const std::string& k) {
    using S = workflow::AdjudicationState;
    if (k == "not_needed") return S::NotNeeded;
    if (k == "open") return S::Open;
    if (k == "decided") return S::Decided;
    return S::AwaitingReads;
}

inline std::string readObject(const std::string& subject, int slot, int ordinal) {
    return "read:" + subject + "/R" + std::to_string(slot) + "/T" + std::to_string(ordinal);
}

/// The caller's slot on the subject, or 0 when the subject is not assigned to them.
inline int slotOf(Database& db, const std::string& subject, const std::string& reader) {
    const auto rows = db.query("SELECT slot FROM assignments WHERE subject = ? AND reader = ?", {subject, reader});
    return rows.empty() ? 0 : std::stoi(rows[0][0]);
}

} // namespace rq
