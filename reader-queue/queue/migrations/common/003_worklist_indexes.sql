-- The worklist looks a reader's reads up by state.
CREATE INDEX assignments_by_reader ON assignments (reader, subject, slot);
CREATE INDEX reads_by_reader ON reads (reader, state, subject, ordinal);
