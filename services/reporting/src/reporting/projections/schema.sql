-- The reporting read models. Created by reporting.projections into whichever schema is first on
-- search_path: "reporting" for the live tables, a fresh one for a rebuild, swapped in atomically.
-- Table names are therefore never schema-qualified here nor in the queries.
--
-- Local dates (*_on, *_due, day) are Asia/Shanghai; instants (*_at) are UTC timestamptz.
-- Personal data appears only masked (as the event store keeps it for keyless readers).

-- 台帐 the ledger: one row per case, its whole record.
CREATE TABLE cases (
    case_id               uuid PRIMARY KEY,
    case_number           text NOT NULL,
    bureau                text NOT NULL,            -- receiving bureau, which numbered the case
    sub_bureau            text NOT NULL,            -- the sub-bureau the matter is attributed to
    category              text NOT NULL,
    category_kind         text NOT NULL,            -- suggestion | accusation | complaint_demand
    petitioners           text NOT NULL,            -- masked names, joined with '、'
    petitioner_ids        text NOT NULL,            -- masked resident ID numbers, joined with '、'
    subjects              uuid[] NOT NULL,          -- data subjects (for erasure)
    head_count            integer NOT NULL,         -- of the first submission
    channel               text NOT NULL,            -- of the first submission
    first_received_at     timestamptz NOT NULL,     -- dates the matter (件)
    registered_at         timestamptz NOT NULL,     -- recorded time of CaseRegistered
    first_receiver        text NOT NULL,            -- 谁接待谁处理
    state                 text NOT NULL,            -- the assignment workflow state name
    responsible_unit      text,
    responsible_officer   text,
    owning_leader         text,                     -- 包案领导 name
    leader_plan           text,
    owning_leader_id      text,                     -- 包案领导 id (the city's or a sub-bureau's)
    leader_team           text[] NOT NULL DEFAULT '{}',  -- 专班 the team's members
    committee_decided_on  date[] NOT NULL DEFAULT '{}',  -- 党委研究决定: each decision's date,
    committee_bodies      text[] NOT NULL DEFAULT '{}',  -- its body (CommitteeBody) and
    committee_contents    text[] NOT NULL DEFAULT '{}',  -- its content (masked), in event order
    acceptance_due        date,
    accepted_on           date,
    handling_due          date,                     -- extension included
    extended_days         integer NOT NULL DEFAULT 0,
    review_due            date,
    re_review_due         date,
    not_accepted          text,                     -- declined | forwarded | diverted | objected
    not_accepted_on       date,
    preliminary_assessment text NOT NULL,           -- intake's latest (undetermined repeats aside)
    outcome               text,                     -- latest: reply, review or re-review outcome
    justified             boolean NOT NULL DEFAULT false,  -- latest assessment (domain.md)
    replied_on            date,
    on_time               boolean,
    satisfaction          text,
    terminated_on         date,
    submissions           integer NOT NULL DEFAULT 0,
    repeat_count          integer NOT NULL DEFAULT 0,
    last_received_at      timestamptz,
    collective            boolean NOT NULL DEFAULT false,  -- any submission collective
    escalation            text,                     -- province | beijing, the highest seen
    congress              boolean NOT NULL DEFAULT false,  -- 人大交办 or 人大督办
    congress_report_on    date,
    supervised            boolean NOT NULL DEFAULT false,  -- any supervision raised
    accused_units         text[] NOT NULL DEFAULT '{}',
    accused_officers      text[] NOT NULL DEFAULT '{}',
    latest_progress_week  text,
    latest_progress_note  text,
    version               integer NOT NULL,         -- last case-stream version applied
    state_before_hearing  text,                     -- the state a hearing returns to (internal)
    provisional_deadlines text[] NOT NULL DEFAULT '{}',  -- dated on a provisional/missing year
    calendar_note         text,                     -- why, 中文 / English
    -- The assessed rates judge "by D" (domain.md): a rate for an earlier report date must not
    -- see a review request or a rating made after it, so their dates are kept, not only the
    -- latest value.
    review_requested_on   date,                     -- the first review (复查) request
    rated_on              date[] NOT NULL DEFAULT '{}',  -- every satisfaction rating's date,
    ratings               text[] NOT NULL DEFAULT '{}',  -- and its value, in event order
    -- Every submission's local date and every repeat's, and from them the first day after the
    -- reply a submission (resubmitted_on) and a repeat (repeated_after_reply_on) came: "no
    -- submission after the reply up to D" is then a test of one column, not a search of the
    -- case's submissions in every report (issue 17).
    received_days         date[] NOT NULL DEFAULT '{}',
    repeat_days           date[] NOT NULL DEFAULT '{}',
    resubmitted_on        date,
    repeated_after_reply_on date,
    -- The deadline a case is running against now, derived from its columns rather than from
    -- the full list of workflow state names, which the assignment service owns. Review and
    -- re-review are told apart by state because the review dates stay on the row after their
    -- decisions. A hearing in re-review stops its clock (Art. 36): no deadline runs while it
    -- lasts, but the case is still open; a hearing in handling stops nothing (Art. 34).
    -- Stored so that open cases, and the overdue among them, are read from an index.
    running_due           date GENERATED ALWAYS AS (
        CASE
            WHEN terminated_on IS NOT NULL OR not_accepted IS NOT NULL THEN NULL
            WHEN state = 'hearing' AND state_before_hearing = 'under_re_review' THEN NULL
            WHEN state = 'under_re_review' THEN re_review_due
            WHEN state = 'under_review' THEN review_due
            WHEN accepted_on IS NULL THEN acceptance_due
            WHEN replied_on IS NULL THEN handling_due
        END) STORED,
    -- The days an accepted case was being handled: from acceptance to the day before its reply
    -- (open-ended until then; empty for a reply dated before the acceptance). The weekly
    -- bulletin's "no progress this week" looks for cases whose span holds the week's end.
    handling_days         daterange GENERATED ALWAYS AS (
        daterange(accepted_on,
                  CASE WHEN replied_on < accepted_on THEN accepted_on ELSE replied_on END,
                  '[)')) STORED
);
-- A sub-bureau's cases, in the order its lists show them (the bulletin's missing progress
-- stops after a page instead of sorting a whole sub-bureau's cases by number).
CREATE INDEX cases_sub_bureau ON cases (sub_bureau, case_number);
-- Matters first received in a period, carrying what the figures' pass over them reads
-- (queries.figures._PERIOD_CASES, the trend's matters): a year's hundred thousand cases are read
-- from the index alone instead of a heap page per case, a city year's pass 115 -> 23 ms at
-- 200,000 cases (issue 17; index-only where the visibility map allows, as cases_ledger).
CREATE INDEX cases_first_received ON cases (first_received_at)
    INCLUDE (sub_bureau, accepted_on, not_accepted, not_accepted_on, acceptance_due, replied_on,
             terminated_on, resubmitted_on, repeated_after_reply_on, review_requested_on);
-- The ledger's order, with what its scope rule reads (Art. 30's accused columns included): its
-- first page stops after a page of the index, and its total counts the index alone where the
-- visibility map allows (a rebuild VACUUMs its tables; autovacuum keeps them so) instead of a
-- decade's heap (issue 17).
CREATE INDEX cases_ledger ON cases (first_received_at DESC, case_number DESC)
    INCLUDE (bureau, sub_bureau, responsible_unit, accused_units, accused_officers);
-- The audit endpoints find a case by its number (/cases/{case_number}/...): without this index
-- each lookup read the whole table (issue 17). Not unique: numbers come from the bureaus'
-- events, and a duplicate must not stop the projection.
CREATE INDEX cases_case_number ON cases (case_number);
-- Replies in a period (figures' on-time rate, cycle and satisfaction, the bulletin's replied
-- count), with what queries.figures._PERIOD_REPLIES reads: the cases replied to in a year are
-- spread over the heap (a page per case), 159 -> 36 ms index-only at 200,000 cases (issue 17).
CREATE INDEX cases_replied_on ON cases (replied_on)
    INCLUDE (sub_bureau, on_time, accepted_on, rated_on, ratings);
-- Open cases (common.OPEN_SQL), and the running deadlines the bulletin lists in due order: a
-- decade's log holds a million closed cases that a week's bulletin must not read.
CREATE INDEX cases_open ON cases (sub_bureau) WHERE running_due IS NOT NULL OR state = 'hearing';
CREATE INDEX cases_running_due ON cases (running_due) WHERE running_due IS NOT NULL;
-- The monthly analysis's People's Congress cases: new in the month, or with the report due.
-- Those with the report due are counted from the index alone (what the scope rule reads, and
-- the report date itself, which an index-only scan needs beside the expression): a decade's log
-- holds tens of thousands never reported on, in every later month's list (issue 17).
CREATE INDEX cases_congress_received ON cases (first_received_at) WHERE congress;
CREATE INDEX cases_congress_report
    ON cases (coalesce(congress_report_on, 'infinity'::date), first_received_at)
    INCLUDE (congress_report_on, bureau, sub_bureau, responsible_unit, accused_units,
             accused_officers)
    WHERE congress;
-- Submissions on justified cases (queries.common.JUSTIFIED_CASE: a probe per submission).
CREATE INDEX cases_justified ON cases (case_id) WHERE justified;
-- Justified cases by their latest submission: the trend's justified petitions join a window's
-- submissions with the justified cases that can have one in it, not with every justified case
-- of a decade (queries.figures._SERIES_JUSTIFIED).
CREATE INDEX cases_justified_latest ON cases (last_received_at) INCLUDE (case_id) WHERE justified;
-- Cases in handling on a day (the bulletin's missing progress), accepted ones only.
CREATE INDEX cases_in_handling ON cases USING gist (handling_days)
    WHERE not_accepted IS NULL AND terminated_on IS NULL AND accepted_on IS NOT NULL;

-- Every submission (件次), first and repeat.
CREATE TABLE submissions (
    submission_id         uuid PRIMARY KEY,
    case_id               uuid NOT NULL,
    received_at           timestamptz NOT NULL,
    received_on           date NOT NULL,            -- local date of received_at
    receiving_bureau      text NOT NULL,
    sub_bureau            text NOT NULL,            -- the case's
    category              text NOT NULL,            -- the case's
    head_count            integer NOT NULL,
    channel               text NOT NULL,
    is_repeat             boolean NOT NULL,
    collective            boolean NOT NULL,
    escalation            text,
    reception_session_id  uuid
);
-- Every report filters submissions on their local date (received_on BETWEEN a period's days):
-- with only received_at indexed, each figure read the whole table (issue 17). What the reports
-- read of them is carried, so a period's submissions come from the index alone (a rebuild
-- stores them in case order: a year's are scattered over the heap).
CREATE INDEX submissions_received_on ON submissions (received_on)
    INCLUDE (sub_bureau, receiving_bureau, case_id, head_count, is_repeat, escalation, category,
             channel);
CREATE INDEX submissions_case ON submissions (case_id);

-- Weekly progress entries (每周进展), the latest per ISO week.
CREATE TABLE progress (
    case_id               uuid NOT NULL,
    week                  text NOT NULL,            -- ISO week, 2026-W48
    note                  text NOT NULL,
    recorded_on           date NOT NULL,
    PRIMARY KEY (case_id, week)
);
-- The bulletin's "no progress this week": a week's entries, not a decade's.
CREATE INDEX progress_week ON progress (week);

-- Leader reception sessions (领导接访).
CREATE TABLE reception_sessions (
    session_id            uuid PRIMARY KEY,
    bureau                text NOT NULL,
    day                   date NOT NULL,
    leader_id             text NOT NULL,
    leader_name           text NOT NULL,
    chief_day             boolean NOT NULL,
    state                 text NOT NULL,            -- scheduled | held | missed
    held_by               text,
    missed_reason         text,
    instructions          integer NOT NULL DEFAULT 0,
    accompanied_by        text[] NOT NULL DEFAULT '{}'   -- sub-bureaus whose heads accompanied
);
CREATE INDEX reception_sessions_day ON reception_sessions (day);

-- Leaders' instructions (批示) followed up (issue 15): who answers, by when, answered when.
-- Instructions recorded before follow-up (no id, unit or due day) are not rows here.
CREATE TABLE instructions (
    instruction_id        uuid PRIMARY KEY,
    case_id               uuid NOT NULL,
    case_number           text NOT NULL,
    bureau                text NOT NULL,            -- the case's receiving bureau
    sub_bureau            text NOT NULL,            -- the sub-bureau the case concerns
    session_id            uuid NOT NULL,
    instructed_on         date NOT NULL,
    unit                  text NOT NULL,            -- who must answer
    due_on                date NOT NULL,
    due_set_by            text NOT NULL,            -- leader | default
    instruction           text NOT NULL,            -- masked
    needs_party_committee boolean NOT NULL DEFAULT false,
    answered_on           date,
    on_time               boolean,
    answer                text                      -- masked
);
CREATE INDEX instructions_due ON instructions (due_on);
CREATE INDEX instructions_case ON instructions (case_id);

-- Reminders (催办) and supervisions (督办) raised by the assignment service's deadline sweep.
CREATE TABLE deadline_notices (
    event_id              uuid PRIMARY KEY,
    case_id               uuid NOT NULL,
    kind                  text NOT NULL,            -- reminder | supervision
    deadline              text NOT NULL,            -- acceptance | handling | review | ...
    due                   date NOT NULL,
    unit                  text NOT NULL,
    officer               text,
    raised_at             timestamptz NOT NULL
);
CREATE INDEX deadline_notices_case ON deadline_notices (case_id);

-- Per case stream, the last version these tables hold (the consumer's exactly-once bookkeeping;
-- it lives beside the tables so a rebuild swaps both together).
CREATE TABLE applied (
    stream_id             text PRIMARY KEY,
    version               integer NOT NULL,
    applied_at            timestamptz NOT NULL DEFAULT now()
);

-- Data subjects erased (PIPL Art. 47): a case registered after the erasure was projected (the
-- two come on different streams, in either order) still shows them as erased.
CREATE TABLE erased_subjects (
    subject_id            uuid PRIMARY KEY
);
