-- What readers and adjudicators see of a subject: its Clinical Trial Subject Reading ID
-- (0012,0042), which the anonymizer derives at enrolment and keeps in the key, read from the
-- store's files at import. The pseudonym (the subject ID) carries the site number: it stays for
-- managers and exports, never for a blinded reader.
ALTER TABLE subjects ADD COLUMN reading_id TEXT NOT NULL DEFAULT '';
