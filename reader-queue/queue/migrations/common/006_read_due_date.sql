-- A read is due the charter's read_turnaround_days after it was offered to its reader (the
-- day it became readable: its timepoint accepted at QC and the reader's previous timepoint
-- signed). The date is copied onto the read when it is offered and kept in the worklist's
-- partial index, so the worklist still answers from the index alone (a join to the
-- timepoints doubled its median and p99 in reader-queue-bench).
ALTER TABLE reads ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
DROP INDEX reads_active_by_reader;
CREATE INDEX reads_active_by_reader ON reads (reader, subject, ordinal, slot, state, study_date, due_date)
    WHERE state IN ('open', 'draft', 'reopen_requested');
