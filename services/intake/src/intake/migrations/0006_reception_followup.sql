-- Missed sessions are counted by a coded reason (issue 15); the explanation is sealed in the
-- event store and never kept here in the clear. Rows recorded before keep their old reason.
ALTER TABLE intake.reception_sessions ADD COLUMN missed_reason_code text;
