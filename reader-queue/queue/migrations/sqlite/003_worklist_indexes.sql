-- The worklist looks reads up by reader (through assignments) and state.
CREATE INDEX assignments_by_reader ON assignments (reader, subject, slot);
CREATE INDEX reads_by_state ON reads (subject, slot, state);
