-- The secret behind the ids of the events assignment raises by itself (take-up, deadline
-- notices) when PETITIONS_EVENT_ID_KEY is not set: random, made by the first process to start,
-- shared by every replica and restart, so the same notice keeps one id.
CREATE TABLE assignment.event_id_key (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key         bytea NOT NULL CHECK (length(key) >= 16),
    created_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON assignment.event_id_key TO petitions_app;
