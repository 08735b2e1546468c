-- The signed reports' outbox (Queue::queueReport): each signed timepoint's TID 1500 report,
-- kept in the queue's database by the workstation that signed it, until report-push
-- --from-queue has stored it on the trial's PACS (stored_at; the audit trail says
-- "report.stored"). A reader's workstation never needs to write to the PACS.
CREATE TABLE report_outbox (
    sop_uid TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    slot INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    dicom_base64 TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    stored_at TEXT
);
