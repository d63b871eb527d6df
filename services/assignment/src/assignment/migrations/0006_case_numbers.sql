-- Every case endpoint takes the case number as well as the id (people, the ledger and audit use
-- numbers). The number is looked up in the case's registration event (petitions.cases), which
-- exists from the moment of registration, before assignment has taken the case up. Intake's
-- migrations create the same index; whichever service starts first makes it.
CREATE INDEX IF NOT EXISTS events_case_number_idx ON eventstore.events
    ((data->>'case_number')) WHERE event_type = 'intake.CaseRegistered';
