-- The trial (its charter, stored once at init: every later command reads the same rules),
-- the subjects' dates the RECIST engine needs (randomization, death: pseudonyms only, never
-- the arm), the end of a subject's reading, the engine's results of each signed read, and
-- the adjudication rounds of the 2+1 paradigm.
CREATE TABLE trial (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    study_id TEXT NOT NULL,
    charter_version TEXT NOT NULL,
    charter TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
ALTER TABLE subjects ADD COLUMN randomization_date TEXT NOT NULL DEFAULT '';
ALTER TABLE subjects ADD COLUMN death_date TEXT NOT NULL DEFAULT '';
ALTER TABLE subjects ADD COLUMN reading_closed_at TEXT;
ALTER TABLE subjects ADD COLUMN close_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE reads ADD COLUMN result TEXT NOT NULL DEFAULT '';
-- One row per round: a round covers the timepoints both readers had signed (through_ordinal)
-- when the charter's triggers were last evaluated; a decided round is final for them.
CREATE TABLE adjudications (
    subject TEXT NOT NULL REFERENCES subjects(pseudonym),
    round INTEGER NOT NULL,
    state TEXT NOT NULL,
    through_ordinal INTEGER NOT NULL,
    final INTEGER NOT NULL DEFAULT 0,
    triggers TEXT NOT NULL DEFAULT '',
    evaluated_at TEXT NOT NULL,
    opened_at TEXT,
    adjudicator TEXT REFERENCES users(name),
    claimed_at TEXT,
    chosen_slot INTEGER,
    rationale TEXT NOT NULL DEFAULT '',
    signature_meaning TEXT,
    signed_hash TEXT,
    decided_at TEXT,
    PRIMARY KEY (subject, round)
);
CREATE INDEX adjudications_by_state ON adjudications (state, adjudicator, opened_at);
