-- Deadlines computed on a provisional or missing holiday year (issue 10): which of a case's
-- deadlines are marked, for the lists and for the start-up warning; and each calendar (by the
-- checksum of its year files) whose deadlines have been recomputed, so that the sweep does it
-- once per calendar, not every round.
ALTER TABLE assignment.cases
    ADD COLUMN provisional_deadlines text[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_provisional ON assignment.cases (case_id)
    WHERE provisional_deadlines <> '{}';

CREATE TABLE assignment.calendar_recomputations (
    checksum      text PRIMARY KEY,
    files         text NOT NULL,        -- the year files and their sha256, one per line
    cases         integer NOT NULL,     -- cases re-dated
    completed_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON assignment.calendar_recomputations TO petitions_app;
