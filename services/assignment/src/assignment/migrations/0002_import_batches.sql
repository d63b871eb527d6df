-- Importing history case by case takes minutes to hours: a case registered with its 2025
-- receipt date looks overdue until its acceptance and reply are imported too. While an import
-- batch is open, the deadline sweep leaves the cases being imported alone, so that it raises
-- no reminder or supervision the finished history would not; it judges them once the batch is
-- closed.
ALTER TABLE assignment.cases ADD COLUMN imported boolean NOT NULL DEFAULT false;

CREATE TABLE assignment.import_batches (
    batch_id   uuid PRIMARY KEY,
    label      text NOT NULL,
    opened_by  text NOT NULL,
    opened_at  timestamptz NOT NULL,
    closed_at  timestamptz,
    closed_by  text
);
CREATE INDEX import_batches_open ON assignment.import_batches (opened_at) WHERE closed_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON assignment.import_batches TO petitions_app;
