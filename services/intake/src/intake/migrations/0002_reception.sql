-- Leader reception sessions, as intake lists them (derived from the reception-<id> streams,
-- written in the same transaction as their events).
CREATE TABLE intake.reception_sessions (
    session_id   uuid PRIMARY KEY,
    bureau       text NOT NULL,
    day          date NOT NULL,
    leader_id    text NOT NULL,
    leader_name  text NOT NULL,
    chief_day    boolean NOT NULL,
    place        text NOT NULL,
    state        text NOT NULL DEFAULT 'scheduled',  -- scheduled | held | missed
    held_by      text,
    missed_reason text,
    instructions integer NOT NULL DEFAULT 0,
    version      bigint NOT NULL
);
CREATE INDEX reception_sessions_bureau_day_idx ON intake.reception_sessions (bureau, day);

GRANT SELECT, INSERT, UPDATE ON intake.reception_sessions TO petitions_app;
