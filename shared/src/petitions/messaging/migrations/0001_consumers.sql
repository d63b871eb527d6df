-- Consumer bookkeeping, in the database where the consumer keeps its effects (a service's own
-- database, or the event store's): the effect and this row commit in one transaction.
CREATE SCHEMA IF NOT EXISTS messaging;

-- Per consumer and case, the last version applied: a redelivered or repeated event (version not
-- above it) is skipped; a missing one (gap) is read from the event store first.
CREATE TABLE messaging.applied (
    consumer    text NOT NULL,
    stream_id   text NOT NULL,
    version     bigint NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, stream_id)
);

CREATE TABLE messaging.dead_letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    stream_id    text NOT NULL,
    version      bigint NOT NULL,
    event_type   text NOT NULL,
    subject      text NOT NULL,
    payload      bytea NOT NULL,
    error        text NOT NULL,
    deliveries   integer NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    replayed_at  timestamptz,
    UNIQUE (consumer, event_id)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'petitions_app') THEN
        GRANT USAGE ON SCHEMA messaging TO petitions_app;
        GRANT SELECT, INSERT, UPDATE ON messaging.applied TO petitions_app;
        GRANT SELECT, INSERT, UPDATE ON messaging.dead_letters TO petitions_app;
    END IF;
END
$$;
