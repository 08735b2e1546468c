-- The visit of each timepoint, as reader-queue/store assigns it from the charter's schedule:
-- a CT and an MR of one visit on different days are one timepoint; an unscheduled assessment is
-- its own timepoint with a decimal VISITNUM (3.1 lies between visits 3 and 4). Timepoints
-- registered before this migration keep '' and are labelled by their ordinal, as they were.
ALTER TABLE timepoints ADD COLUMN visit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE timepoints ADD COLUMN visit_num TEXT NOT NULL DEFAULT '';
ALTER TABLE timepoints ADD COLUMN visit_label TEXT NOT NULL DEFAULT '';
