-- Attachments' bytes (scanned letters, photos, recordings, documents), sealed with the data key
-- of the person they belong to (SM4-GCM; erasing the person destroys the key, and with it every
-- copy's readability). Addressed by the SM3 digest of the clear bytes, which the
-- intake.AttachmentAdded event carries, so the event stream's hash chain covers the file. One
-- row per person and content: the same file attached twice for one person is stored once.
CREATE TABLE intake.attachment_blobs (
    sm3        bytea NOT NULL,
    subject_id uuid NOT NULL,
    sealed     bytea NOT NULL,          -- nonce (12) || ciphertext || tag (16)
    size       bigint NOT NULL,         -- of the clear bytes
    stored_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sm3, subject_id)
);
-- The bytes are opaque to PostgreSQL: no compression attempt on already-compressed files.
ALTER TABLE intake.attachment_blobs ALTER COLUMN sealed SET STORAGE EXTERNAL;

GRANT SELECT, INSERT ON intake.attachment_blobs TO petitions_app;
