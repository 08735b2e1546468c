-- Signed checkpoints of the audit trail's head (readerqueue/Anchor.h): an Ed25519 signature
-- of (seq, hash, time) made with a key the database does not hold. Each checkpoint is also
-- appended to a log file outside the database; `reader-queue audit verify` checks both.
CREATE TABLE audit_checkpoint (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
