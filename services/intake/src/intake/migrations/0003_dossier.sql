-- Finding a case by its number: people, the ledger and audit use numbers. The number lives in the
-- case's registration event; this index makes the look-up one index probe (assignment's
-- migrations create the same index, whichever service starts first; petitions.cases reads it).
CREATE INDEX IF NOT EXISTS events_case_number_idx ON eventstore.events
    ((data->>'case_number')) WHERE event_type = 'intake.CaseRegistered';

-- Every read of personal data in the clear is an intake.PersonalDataRead event on
-- reads-<case id> (the record itself). This table only finds those events by reader and keeps
-- what scope needs to filter them, written in the same transaction as the event.
CREATE TABLE intake.personal_data_reads (
    stream_id         text NOT NULL,
    version           bigint NOT NULL,
    case_id           uuid NOT NULL,
    reader            text NOT NULL,
    case_bureaus      text[] NOT NULL,   -- receiving bureau, sub-bureau, handling unit's bureau
    accused_units     text[] NOT NULL DEFAULT '{}',
    accused_officers  text[] NOT NULL DEFAULT '{}',
    read_at           timestamptz NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX personal_data_reads_reader_idx ON intake.personal_data_reads (reader, read_at);

GRANT SELECT, INSERT ON intake.personal_data_reads TO petitions_app;
