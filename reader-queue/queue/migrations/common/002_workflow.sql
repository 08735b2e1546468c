-- Users, subjects (pseudonyms only: the arm is never stored), timepoints (one per scan date)
-- with their QC state and their studies in the store,
-- reader assignments (slot 1 and 2: "Reader 1" / "Reader 2") and one read per reader and
-- timepoint, in the states of reader-queue/workflow.
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE subjects (
    pseudonym TEXT PRIMARY KEY,
    registered_at TEXT NOT NULL
);
CREATE TABLE timepoints (
    subject TEXT NOT NULL REFERENCES subjects(pseudonym),
    ordinal INTEGER NOT NULL,
    study_date TEXT NOT NULL,
    series_count INTEGER NOT NULL,
    state TEXT NOT NULL,
    qc_reason TEXT NOT NULL DEFAULT '',
    registered_at TEXT NOT NULL,
    qc_at TEXT,
    PRIMARY KEY (subject, ordinal),
    UNIQUE (subject, study_date)
);
-- The studies of a timepoint in the store (a visit's CT and MR are separate studies of one day).
CREATE TABLE timepoint_studies (
    store_path TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    series_count INTEGER NOT NULL,
    FOREIGN KEY (subject, ordinal) REFERENCES timepoints(subject, ordinal)
);
CREATE TABLE assignments (
    subject TEXT NOT NULL REFERENCES subjects(pseudonym),
    slot INTEGER NOT NULL,
    reader TEXT NOT NULL REFERENCES users(name),
    PRIMARY KEY (subject, slot),
    UNIQUE (subject, reader)
);
CREATE TABLE reads (
    subject TEXT NOT NULL,
    slot INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    reader TEXT NOT NULL REFERENCES users(name), -- the assignment's reader, for the worklist
    state TEXT NOT NULL,
    draft TEXT NOT NULL DEFAULT '',
    signed_by TEXT,
    signed_at TEXT,
    signature_meaning TEXT,
    signed_hash TEXT,
    PRIMARY KEY (subject, slot, ordinal),
    FOREIGN KEY (subject, ordinal) REFERENCES timepoints(subject, ordinal)
);
