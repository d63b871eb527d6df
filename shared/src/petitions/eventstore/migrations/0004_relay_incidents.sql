-- What the relay met and could not simply publish, beside its cursor: an event NATS refuses for
-- good (too large: a dead letter, skipped so that relaying goes on; consumers fill it in from the
-- store), or an event id someone else had published first (pre-empted: the relay published the
-- genuine event again under a fresh message id). Operators list them with
-- ``python -m petitions.messaging dead-letters`` and ``relay-status``.
CREATE TABLE eventstore.relay_incidents (
    event_id     uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('unpublishable', 'preempted')),
    stream_id    text NOT NULL,
    version      bigint NOT NULL,
    event_type   text NOT NULL,
    subject      text NOT NULL,
    size         integer NOT NULL,
    error        text NOT NULL,
    seen_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    PRIMARY KEY (event_id, kind)
);

GRANT SELECT, INSERT, UPDATE ON eventstore.relay_incidents TO petitions_app;
