-- Intake's own tables, beside the event store. Everything here is derived or bookkeeping;
-- the case history itself lives in the events.
CREATE SCHEMA IF NOT EXISTS intake;

-- Case numbers without gaps: the counter row is taken in the registering transaction, so a
-- registration that rolls back gives its number back.
CREATE TABLE intake.case_numbers (
    bureau  text NOT NULL,
    year    integer NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (bureau, year)
);

-- A petitioner's query code, stored only as a keyed hash (HMAC-SM3).
CREATE TABLE intake.query_codes (
    token    bytea PRIMARY KEY,
    case_id  uuid NOT NULL
);

-- A client's retried POST returns the first answer instead of registering twice.
CREATE TABLE intake.idempotency_keys (
    principal     text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

GRANT USAGE ON SCHEMA intake TO petitions_app;
GRANT SELECT, INSERT, UPDATE ON intake.case_numbers TO petitions_app;
GRANT SELECT, INSERT ON intake.query_codes TO petitions_app;
GRANT SELECT, INSERT ON intake.idempotency_keys TO petitions_app;
