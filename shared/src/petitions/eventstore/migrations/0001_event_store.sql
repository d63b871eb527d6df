-- The event store: one row per stream (a case) and one per event, append-only.
CREATE SCHEMA IF NOT EXISTS eventstore;

-- The version check and the head of the hash chain live here, so a losing writer is turned away
-- by one row update before it touches the events table or burns an identity value.
CREATE TABLE eventstore.streams (
    stream_id   text PRIMARY KEY,
    category    text NOT NULL,
    bureau      text NOT NULL,
    version     bigint NOT NULL CHECK (version >= 0),
    head_hash   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE eventstore.events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text NOT NULL,
    version         bigint NOT NULL CHECK (version >= 1),
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL CHECK (schema_version >= 1),
    bureau          text NOT NULL,
    -- json, not jsonb: json keeps the exact text written, and the hash chain runs over those bytes.
    data            json NOT NULL,
    actor           text NOT NULL,
    service         text NOT NULL,
    correlation_id  uuid NOT NULL,
    causation_id    uuid,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    -- The writing transaction: readers of the whole log order by (tx_id, position) and only read
    -- below the oldest running transaction, so a late commit can never be skipped.
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    hash_alg        text NOT NULL,
    hash            bytea NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX events_tx_position_idx ON eventstore.events (tx_id, position);

-- Durable cursors of the readers of the whole log (relay, projections, rebuilds).
CREATE TABLE eventstore.subscriptions (
    name        text PRIMARY KEY,
    tx_id       xid8 NOT NULL,
    position    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION eventstore.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'eventstore.events 只允许追加 is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Record a correcting event instead of changing history.';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON eventstore.events
    FOR EACH ROW EXECUTE FUNCTION eventstore.refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON eventstore.events
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore.refuse_change();

-- Subscribers are woken by NOTIFY eventstore_appended, sent by the appending process after its
-- commit (coalesced, see EventStore), not by a trigger: a NOTIFY inside the append transaction
-- takes a cluster-wide lock at commit and cost a third of the 8-writer append rate.
