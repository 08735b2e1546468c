-- Image tokens (Queue::issueImageToken): what a workstation shows the gate in front of the
-- trial's image server to fetch one study folder. Only a hash of the token is kept; the gate
-- checks, on every request, that the token is unexpired and unrevoked and that the queue still
-- opens its folder to its user.
CREATE TABLE image_tokens (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    folder TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX image_tokens_user ON image_tokens (user_name);
