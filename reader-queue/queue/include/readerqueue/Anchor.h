#pragma once
// Anchoring the audit trail outside the database. The hash chain (Audit.h) shows an edit in
// the middle, but whoever can write the database can also cut its newest entries and rewrite
// audit_head to match, or rebuild the whole chain with plain SHA-256: nothing in the chain is
// secret. A checkpoint is the head (seq, hash) and its time signed with an Ed25519 key
// (libsodium) that the database does not hold - a 0600 file of the queue's service account -
// stored in the database's audit_checkpoint table *and* appended to a log file outside it.
// verifyAnchors() checks every checkpoint's signature with the public key, that the trail
// still holds the signed entry with the signed hash, and that the table and the log agree.
#include "readerqueue/Audit.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rq {

class Database;

struct AnchorError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Checkpoint {
    std::int64_t seq = 0;  ///< the newest entry at the time (0: an empty trail)
    std::string hash;      ///< its chain hash
    std::string time;      ///< UTC, ISO 8601, when it was signed
    std::string keyId;     ///< the first 16 hex digits of SHA-256(public key)
    std::string signature; ///< Ed25519, hex, over checkpointMessage()
};

/// What the signature covers: a domain string and the three fields, length-prefixed.
std::string checkpointMessage(const Checkpoint& c);

/// An Ed25519 key pair: `secret` (64 bytes, libsodium's layout) may be empty for a verifier.
struct AnchorKey {
    std::string publicKey; ///< 32 bytes
    std::string secret;    ///< 64 bytes, or empty
    std::string keyId() const;
};

/// Makes a key pair: FILE (the secret key, created 0600, refused if it exists) and FILE.pub.
AnchorKey generateAnchorKey(const std::filesystem::path& secretFile);
/// Loads the secret key; refuses a file that others than its owner may read (mode & 077).
AnchorKey loadAnchorSecret(const std::filesystem::path& secretFile);
/// Loads a public key file (FILE.pub as generateAnchorKey writes it).
AnchorKey loadAnchorPublic(const std::filesystem::path& publicFile);

/// Signs the database's current head: appends it to the log (O_APPEND, fsync) and then stores
/// it in audit_checkpoint. Returns the checkpoint. If the head is already checkpointed, returns
/// that one and writes nothing.
Checkpoint checkpointAudit(Database& db, const AnchorKey& key, const std::filesystem::path& logFile);

/// The checkpoints of the log file (missing file: std::nullopt); a malformed line is an AnchorError naming it.
std::optional<std::vector<Checkpoint>> readCheckpointLog(const std::filesystem::path& logFile);
std::vector<Checkpoint> readCheckpointTable(Database& db);

struct AnchorReport {
    std::vector<AuditProblem> problems; ///< kinds: "signature", "cut", "rewritten", "log", "table", "unanchored-trail"
    std::int64_t anchoredTo = 0;        ///< the newest entry a valid checkpoint covers
    std::int64_t newest = 0;            ///< the trail's newest entry (entries after anchoredTo are not yet anchored)
    std::size_t checkpoints = 0;        ///< distinct valid checkpoints seen
};

/// Checks the checkpoints of the table and the log (nullopt: the log file is missing) against
/// the trail and the public key. Every checkpoint must verify, must name an entry the trail
/// still holds with the same hash, and must be in both places; a non-empty trail with no
/// checkpoint at all is a problem too (nothing anchors it).
AnchorReport verifyAnchors(const std::vector<AuditEntry>& entries, const std::vector<Checkpoint>& table,
                           const std::optional<std::vector<Checkpoint>>& log, const AnchorKey& key, const std::string& logName);

} // namespace rq
