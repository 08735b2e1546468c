#pragma once
// The audit trail: append-only, every entry hash-chained to the previous one, so that an
// edited, deleted, inserted or reordered entry breaks the chain (21 CFR Part 11 §11.10(e)).
#include <cstdint>
#include <string>
#include <vector>

namespace rq {

struct AuditEntry {
    std::int64_t seq = 0; ///< 1, 2, 3... without gaps
    std::string time;     ///< UTC, ISO 8601 with milliseconds
    std::string user;     ///< who (login name; "system" for the queue itself)
    std::string action;   ///< what, e.g. "read.sign", "timepoint.qc_reject", "login.failed"
    std::string object;   ///< on what, e.g. "read:RELUTH-01-003/R1/V3"
    std::string oldValue;
    std::string newValue;
    std::string reason;
    std::string prevHash; ///< hash of entry seq-1 ("" for the first)
    std::string hash;     ///< SHA-256 hex of prevHash and the entry's fields
};

/// The current UTC time, ISO 8601 with milliseconds (as audit entries record it).
std::string utcNow();

/// SHA-256 of bytes, hex.
std::string sha256Hex(const std::string& data);

/// SHA-256 (hex) of the entry's fields and prevHash, each length-prefixed (no separator games).
std::string chainHash(const AuditEntry& e);

/// The newest entry as the database records it apart from the entries themselves.
struct AuditHead {
    std::int64_t seq = 0;
    std::string hash;
};

struct AuditProblem {
    std::int64_t seq = 0; ///< the entry where the chain breaks (0: the head)
    std::string kind;     ///< "edited", "missing", "reordered", "inserted", "head"
    std::string detail;
};

/// Checks entries in storage order against each other and the head; empty means intact.
std::vector<AuditProblem> verifyChain(const std::vector<AuditEntry>& entries, const AuditHead& head);

} // namespace rq
