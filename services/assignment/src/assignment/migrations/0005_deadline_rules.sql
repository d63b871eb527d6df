-- Deadline rules beside the calendar (issue 15): a running case is recomputed once per
-- (calendar checksum, rules version), so that a corrected rule (a hearing no longer pauses the
-- handling period) re-dates the cases it affects once, like a changed holiday file. The rows
-- written before are rules version 1.
ALTER TABLE assignment.calendar_recomputations
    ADD COLUMN rules_version integer NOT NULL DEFAULT 1;
ALTER TABLE assignment.calendar_recomputations
    DROP CONSTRAINT calendar_recomputations_pkey;
ALTER TABLE assignment.calendar_recomputations
    ADD PRIMARY KEY (checksum, rules_version);
