-- Personal data: data keys per data subject (wrapped by the key-encryption key, which is not in
-- the database) and the blind index (HMAC-SM3 tokens, never a plain hash of an ID number).
CREATE SCHEMA IF NOT EXISTS personal;

CREATE TABLE personal.data_keys (
    subject_id    uuid PRIMARY KEY,
    kek_id        text NOT NULL,
    -- NULL once erased: nothing can decrypt the subject's fields any more.
    wrapped       bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    erased_at     timestamptz,
    erased_by     text,
    erase_reason  text,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

CREATE TABLE personal.blind_index (
    kind        text NOT NULL,
    token       bytea NOT NULL,
    subject_id  uuid NOT NULL,
    stream_id   text NOT NULL,
    PRIMARY KEY (kind, token, stream_id, subject_id)
);
CREATE INDEX blind_index_subject_idx ON personal.blind_index (subject_id);

GRANT USAGE ON SCHEMA personal TO petitions_app;
GRANT SELECT, INSERT ON personal.data_keys TO petitions_app;
GRANT UPDATE (wrapped, erased_at, erased_by, erase_reason) ON personal.data_keys TO petitions_app;
GRANT SELECT, INSERT, DELETE ON personal.blind_index TO petitions_app;
