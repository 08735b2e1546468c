-- The worklist reads a reader's open, draft and reopen-requested reads in subject and
-- timepoint order, first 100. A partial index holding only those reads, in that order and
-- with every column the worklist shows (the scan date copied from the timepoint, which never
-- changes once registered), answers it from the index alone and stops after 100 entries,
-- instead of sorting every open read of the reader and looking each timepoint up
-- (reader-queue-bench, docs/benchmarks.md).
ALTER TABLE reads ADD COLUMN study_date TEXT NOT NULL DEFAULT '';
UPDATE reads SET study_date = (SELECT t.study_date FROM timepoints t WHERE t.subject = reads.subject AND t.ordinal = reads.ordinal);
CREATE INDEX reads_active_by_reader ON reads (reader, subject, ordinal, slot, state, study_date)
    WHERE state IN ('open', 'draft', 'reopen_requested');
