-- Assignment's own table beside the event store: each case's workflow at a glance, written in
-- the same transaction as the case events it follows from. It drives the lists (by unit, by
-- state, leader-owned) and the deadline sweep; the events remain the truth (rebuildable).
CREATE SCHEMA IF NOT EXISTS assignment;

CREATE TABLE assignment.cases (
    case_id           uuid PRIMARY KEY,
    case_number       text NOT NULL,
    bureau            text NOT NULL,
    sub_bureau        text NOT NULL,
    category          text NOT NULL,
    category_kind     text NOT NULL,
    state             text NOT NULL,
    unit              text,
    officer           text,
    leader_id         text,
    congress          boolean NOT NULL DEFAULT false,
    deadline          text,             -- the running statutory clock, if any
    due               date,
    next_check        date,             -- first day the sweep has something to raise
    accused_units     text[] NOT NULL DEFAULT '{}',
    accused_officers  text[] NOT NULL DEFAULT '{}',
    version           integer NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_next_check ON assignment.cases (next_check) WHERE next_check IS NOT NULL;
CREATE INDEX cases_unit ON assignment.cases (unit, state);

GRANT USAGE ON SCHEMA assignment TO petitions_app;
GRANT SELECT, INSERT, UPDATE ON assignment.cases TO petitions_app;
