-- The relay's lease (petitions.messaging.lease): which relay may publish. The active relay renews
-- it only while it makes progress, so a frozen holder, or one that reaches PostgreSQL but not
-- NATS, loses it within the lease time and a standby takes over. Every acquisition raises the
-- epoch; the relay advances its cursor and records incidents only in statements that check its
-- epoch here, so a holder that lost the lease can no longer move anything (fencing). Expiry is
-- by this server's clock (now()), never a relay's own.
CREATE TABLE eventstore.relay_lease (
    name         text PRIMARY KEY,
    holder       text NOT NULL,
    epoch        bigint NOT NULL CHECK (epoch > 0),
    acquired_at  timestamptz NOT NULL,
    renewed_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON eventstore.relay_lease TO petitions_app;
