-- "My work" (issue 13, item 4): what the lists need beyond the running deadline to say why a
-- case is urgent. Written by the workflow from the folded case with every append; filled here
-- once from the event log for the cases that exist already (the events stay the truth).
ALTER TABLE assignment.cases
    ADD COLUMN sent_back  boolean NOT NULL DEFAULT false,  -- the latest act sent completion back
    ADD COLUMN reminded   boolean NOT NULL DEFAULT false,  -- a reminder raised on the running deadline
    ADD COLUMN supervised boolean NOT NULL DEFAULT false;  -- supervision raised on it

UPDATE assignment.cases c SET
    sent_back = coalesce((
        SELECT e.event_type = 'assignment.CompletionSentBack'
        FROM eventstore.events e
        WHERE e.stream_id = 'case-' || c.case_id
          AND e.event_type NOT IN ('assignment.DeadlineReminderSent',
                                   'assignment.SupervisionRaised',
                                   'assignment.DeadlinesRecomputed')
        ORDER BY e.version DESC LIMIT 1), false),
    reminded = EXISTS (
        SELECT 1 FROM eventstore.events e
        WHERE e.stream_id = 'case-' || c.case_id
          AND e.event_type = 'assignment.DeadlineReminderSent'
          AND e.data->>'deadline' = c.deadline AND e.data->>'due' = c.due::text),
    supervised = EXISTS (
        SELECT 1 FROM eventstore.events e
        WHERE e.stream_id = 'case-' || c.case_id
          AND e.event_type = 'assignment.SupervisionRaised'
          AND e.data->>'deadline' = c.deadline AND e.data->>'due' = c.due::text);

CREATE INDEX cases_officer ON assignment.cases (officer) WHERE officer IS NOT NULL;
