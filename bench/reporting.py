"""Reporting benchmark: the read models' rebuild rate over a realistic log, beside the raw row
read of the same events table in the same run, and freshness: how long after a registration is
sent to intake over HTTP (at 50/s) its ledger row is in the reporting database.

The log is generated case by case the way the services would write it: registration (with the
petitioner's personal data sealed), workflow, assignment, weekly progress, reminders and
supervision, repeat submissions, extensions, hearings, replies, reviews and re-reviews,
People's Congress supervision, reception days with leaders' instructions, and a few erasures.
Cases are written by several writers at once, so their events interleave in the log.

Freshness runs one intake and one reporting process (`python -m intake`, `python -m reporting`
as `make up` starts them); the client polls the reporting database every POLL_S for the cases
it registered, so a figure is late by at most that much.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import nats.js.errors
from nats.aio.msg import Msg
from petitions.db import create_pool
from petitions.eventstore import EventStore, Metadata, NewEvent, PersonalData
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messaging import STREAM, NatsAccess, provision
from petitions.personal import BlindIndex, DataKeys, LocalKeyService
from petitions.settings import CommonSettings

from bench.servers import ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "reporting.json"
BUREAU_CONFIG = ROOT / "deploy/config/bureaus.demo.toml"
REBUILD_EVENTS = int(os.environ.get("BENCH_REPORTING_EVENTS", "120000"))
FRESHNESS_RATE = 50
# BENCH_REPORTING_FRESHNESS=0 leaves freshness out (comparing the read side before and after).
FRESHNESS = os.environ.get("BENCH_REPORTING_FRESHNESS", "1") != "0"
FRESHNESS_SECONDS = 15.0
POLL_S = 0.002
TARGET_REBUILD_EPS = 30_000
SUB_BUREAUS = ("330102", "330103", "330104", "330105", "330106", "330108", "330109")
CATEGORIES = (("SQ01", "complaint_demand"), ("JY01", "suggestion"), ("JK01", "accusation"))
DAY0 = date(2026, 3, 2)
# Cases arrive evenly over this many days from DAY0; a larger log spreads over more of them
# (:func:`span_days`), as a province's decade does.
DEFAULT_SPAN_DAYS = 300


def span_days(cases: int) -> int:
    """The days ``cases`` cases arrive over: 300 up to 82,000 cases (the reporting benchmark's
    log), then 100,000 cases a year: 1,000,000 cases are a decade of a province's petitions."""
    return max(DEFAULT_SPAN_DAYS, round(cases * 365 / 100_000))


SHANGHAI_OFFSET = timedelta(hours=8)


# ------------------------------------------------------------------------------ the histories


@dataclass
class Story:
    """One stream's history: appends in order, each one or more events."""

    stream_id: str
    appends: list[list[NewEvent[Any]]] = field(default_factory=list)
    subject: uuid.UUID | None = None
    """The first petitioner: the workflow's free text is sealed under their key, as in the
    service (``assignment.domain.decisions.sealed_under``)."""

    def add(self, moment: datetime, bureau: str, *events: Event) -> None:
        if self.subject is None:
            self.subject = getattr(events[0], "subject_id", None)
        self.appends.append(
            [NewEvent(self._sealed(e), bureau=bureau, occurred_at=moment) for e in events]
        )

    def _sealed(self, event: Event) -> Event:
        if "subject_id" in type(event).model_fields and getattr(event, "subject_id", 0) is None:
            return event.model_copy(update={"subject_id": self.subject})
        return event

    @property
    def events(self) -> int:
        return sum(len(batch) for batch in self.appends)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - SHANGHAI_OFFSET


def _resident_id(rng: random.Random) -> str:
    body = f"330102{1950 + rng.randrange(50)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}"
    body += f"{rng.randrange(1000):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


# With cases in arrival order (a long log), what stays open (a case being handled, an
# instruction unanswered) arrived in the log's last OPEN_TAIL_DAYS days; older ones were
# settled, replied to late if need be. Drawn at random over the span, 15% of a decade's cases
# would still be open after ten years: no bureau's ledger looks like that.
OPEN_TAIL_DAYS = 120


def open_from(span: int, cases: int | None) -> date | None:
    """The first day whose cases may still be open (None: any day's)."""
    return None if cases is None else DAY0 + timedelta(days=span - OPEN_TAIL_DAYS)


def arrival_day(rng: random.Random, n: int, span: int, cases: int | None) -> int:
    """The day (from DAY0) case ``n`` arrives on: see :func:`case_story`."""
    if cases is None:
        return rng.randrange(span)
    return min(span - 1, max(0, (n - 1) * span // cases + rng.randrange(-3, 4)))


def case_story(
    rng: random.Random,
    n: int,
    subjects: Sequence[uuid.UUID] = (),
    span: int = DEFAULT_SPAN_DAYS,
    cases: int | None = None,
) -> Story:
    """A case from registration to wherever it got (a realistic mix of paths), first received
    on one of the ``span`` days from DAY0: any of them, or with ``cases`` (the log's number of
    cases) near the day case ``n`` falls on when cases arrive evenly in number order, as a real
    log's do (its later tables then hold a period's cases together, as a real one's would)."""
    case_id = uuid.UUID(int=rng.getrandbits(128))
    sub_bureau = rng.choice(SUB_BUREAUS)
    bureau = "3301" if rng.random() < 0.4 else sub_bureau
    category, kind = rng.choice(CATEGORIES)
    day = DAY0 + timedelta(days=arrival_day(rng, n, span, cases))
    people = list(subjects) or [uuid.UUID(int=rng.getrandbits(128))]
    if not subjects and rng.random() < 0.1:
        people.append(uuid.UUID(int=rng.getrandbits(128)))
    story = Story(f"case-{case_id}")
    channel = rng.choice(list(i.Channel))
    congress = channel is i.Channel.CONGRESS_REFERRAL
    head = rng.choice((1, 1, 1, 2, 3, 6))
    first = uuid.UUID(int=rng.getrandbits(128))

    def submission(sid: uuid.UUID, at: datetime, repeat: bool) -> i.SubmissionReceived:
        return i.SubmissionReceived(
            subject_id=people[0],
            case_id=case_id,
            submission_id=sid,
            channel=channel if not repeat else rng.choice(list(i.Channel)),
            received_at=at,
            receiving_bureau=bureau,
            receiving_officer="李警官",
            head_count=head,
            collective=head >= 5,
            petitioner_subjects=tuple(people),
            summary="反映小区停车纠纷，物业不予处理",
            requests="请求协调解决",
            preliminary_assessment=rng.choice(list(i.Assessment)),
            is_repeat=repeat,
            escalation=rng.choice((None, None, None, None, i.Escalation.PROVINCE)),
        )

    registered = i.CaseRegistered(
        subject_id=people[0],
        case_id=case_id,
        case_number=f"{bureau}-2026-{n:06d}",
        bureau=bureau,
        responsible_officer="李警官",
        sub_bureau=sub_bureau,
        category=category,
        category_kind=kind,
        petitioners=tuple(
            i.PetitionerRecord(
                subject_id=p,
                name=rng.choice(("张三", "李四", "王五", "欧阳娜娜")),
                resident_id=_resident_id(rng),
                phone=f"138{rng.randrange(10**8):08d}",
            )
            for p in people
        ),
        first_submission_id=first,
        accused_units=("330102",) if kind == "accusation" else (),
    )
    story.add(_at(day), bureau, registered, submission(first, _at(day), False))
    due = day + timedelta(days=15)
    story.add(
        _at(day, 11),
        bureau,
        a.WorkflowOpened(
            case_id=case_id,
            case_number=registered.case_number,
            bureau=bureau,
            sub_bureau=sub_bureau,
            category=category,
            category_kind=kind,
            received_on=day,
            acceptance_due=due,
            referral=congress,
            congress=congress,
        ),
    )
    roll = rng.random()
    day += timedelta(days=rng.randrange(1, 10))
    if roll < 0.08:
        closing: Event = rng.choice(
            (
                a.AcceptanceDeclined(case_id=case_id, reason="不属于受理范围", decided_on=day),
                a.CaseForwarded(
                    case_id=case_id, organ="市法院", reason="属法院职权", decided_on=day
                ),
                a.DivertedToLegalProcedure(
                    case_id=case_id, procedure="行政复议", reason="应申请复议", decided_on=day
                ),
                a.AssignmentObjected(case_id=case_id, reason="不属本单位", objected_on=day),
            )
        )
        story.add(_at(day), bureau, closing)
        return story
    if rng.random() < 0.1:
        story.add(
            _at(day, 9),
            bureau,
            a.DeadlineReminderSent(
                case_id=case_id,
                deadline=a.DeadlineKind.ACCEPTANCE,
                due=due,
                working_days_left=1,
                unit=sub_bureau,
                officer=None,
            ),
        )
    handling_due = day + timedelta(days=60)
    story.add(
        _at(day),
        bureau,
        a.CaseAccepted(case_id=case_id, accepted_on=day, handling_due=handling_due),
        a.CaseAssigned(case_id=case_id, unit=sub_bureau, officer="赵警官", reason="属地"),
    )
    if rng.random() < 0.1:
        # Owned at the sub-bureau's level or the city's, with a committee decision on some:
        # chosen from the case id, not drawn, so every other history stays as it was.
        at_sub = case_id.int % 2 == 0
        leader = f"{sub_bureau}-head" if at_sub else "L01"
        story.add(
            _at(day, 15),
            bureau,
            a.LeaderOwnershipTaken(
                case_id=case_id,
                leader_id=leader,
                leader_name="分局局长" if at_sub else "陈局长",
                team=("赵警官", "钱警官"),
                plan="一周内约谈信访人，一月内化解",
            ),
        )
        if case_id.int % 3 == 0:
            story.add(
                _at(day, 16),
                bureau,
                a.PartyCommitteeDecisionRecorded(
                    case_id=case_id,
                    decided_on=day,
                    body=(
                        a.CommitteeBody.SUB_BUREAU_COMMITTEE
                        if at_sub
                        else a.CommitteeBody.CITY_BUREAU_COMMITTEE
                    ),
                    content="同意专班化解方案",
                    leader_id=leader,
                ),
            )
    # The People's Congress refers a case (交办) or supervises one (督办): either way it gets
    # the written report back after the reply.
    congress_tracked = congress or rng.random() < 0.03
    if congress_tracked:
        story.add(
            _at(day, 16),
            bureau,
            a.CongressSupervisionStarted(case_id=case_id, document_number="人大督〔2026〕12号"),
        )
    for week in range(rng.randrange(1, 5)):
        on = day + timedelta(days=7 * (week + 1))
        iso = on.isocalendar()
        story.add(
            _at(on, 17),
            bureau,
            a.ProgressRecorded(
                case_id=case_id,
                week=f"{iso.year}-W{iso.week:02d}",
                note="已约谈信访人，调取相关材料，正在核实情况。",
                recorded_on=on,
            ),
        )
        if rng.random() < 0.15:
            at = _at(on, 10)
            story.add(at, bureau, submission(uuid.UUID(int=rng.getrandbits(128)), at, True))
    if rng.random() < 0.3:
        story.add(
            _at(handling_due - timedelta(days=7), 9),
            bureau,
            a.DeadlineReminderSent(
                case_id=case_id,
                deadline=a.DeadlineKind.HANDLING,
                due=handling_due,
                working_days_left=5,
                unit=sub_bureau,
                officer="赵警官",
            ),
        )
    if rng.random() < 0.1:
        handling_due += timedelta(days=30)
        story.add(
            _at(day + timedelta(days=50)),
            bureau,
            a.ExtensionGranted(
                case_id=case_id,
                days=30,
                reason="案情复杂",
                approved_by="陈局长",
                handling_due=handling_due,
            ),
        )
    if rng.random() < 0.05:
        start = day + timedelta(days=20)
        handling_due += timedelta(days=5)
        story.add(
            _at(start),
            bureau,
            a.HearingStarted(case_id=case_id, reason="争议较大", started_on=start),
        )
        story.add(
            _at(start + timedelta(days=5)),
            bureau,
            a.HearingEnded(
                case_id=case_id,
                ended_on=start + timedelta(days=5),
                paused_days=5,
                deadline=a.DeadlineKind.HANDLING,
                due=handling_due,
            ),
        )
    if rng.random() < 0.1:
        story.add(
            _at(handling_due + timedelta(days=1), 9),
            bureau,
            a.SupervisionRaised(
                case_id=case_id,
                deadline=a.DeadlineKind.HANDLING,
                due=handling_due,
                unit=sub_bureau,
                officer="赵警官",
            ),
        )
    first_open = open_from(span, cases)
    if rng.random() < 0.15 and (first_open is None or day >= first_open):
        return story  # still being handled
    replied = day + timedelta(days=rng.randrange(20, 90))
    story.add(
        _at(replied - timedelta(days=3)),
        bureau,
        a.CompletionReported(case_id=case_id, summary="已核实处理完毕", reported_on=replied),
    )
    if rng.random() < 0.1:
        story.add(
            _at(replied - timedelta(days=2)),
            bureau,
            a.CompletionSentBack(case_id=case_id, reason="事实不清"),
            a.CompletionReported(case_id=case_id, summary="补充核实", reported_on=replied),
        )
    outcome = rng.choice(list(a.Outcome))
    story.add(
        _at(replied),
        bureau,
        a.CompletionAccepted(case_id=case_id),
        a.ReplyIssued(
            case_id=case_id,
            outcome=outcome,
            legal_basis="《信访工作条例》第三十二条",
            summary="依法答复",
            replied_on=replied,
            on_time=replied <= handling_due,
            review_request_until=replied + timedelta(days=30),
        ),
    )
    if rng.random() < 0.5:
        story.add(
            _at(replied + timedelta(days=3)),
            bureau,
            a.SatisfactionRated(
                case_id=case_id,
                rating=rng.choice(list(a.Satisfaction)),
                rated_on=replied + timedelta(days=3),
            ),
        )
    if congress_tracked:
        story.add(
            _at(replied + timedelta(days=5)),
            bureau,
            a.CongressReportSent(
                case_id=case_id, report="办理情况报告", sent_on=replied + timedelta(days=5)
            ),
        )
    if rng.random() < 0.15:
        asked = replied + timedelta(days=10)
        decided = asked + timedelta(days=20)
        story.add(
            _at(asked),
            "3301",
            a.ReviewRequested(
                case_id=case_id,
                requested_on=asked,
                organ="3301",
                review_due=asked + timedelta(days=30),
            ),
        )
        story.add(
            _at(decided),
            "3301",
            a.ReviewDecided(
                case_id=case_id,
                decision=rng.choice(list(a.ReviewDecision)),
                outcome=rng.choice(list(a.Outcome)),
                summary="复查意见",
                decided_on=decided,
                re_review_request_until=decided + timedelta(days=30),
            ),
        )
        if rng.random() < 0.3:
            asked = decided + timedelta(days=5)
            story.add(
                _at(asked),
                "3301",
                a.ReReviewRequested(
                    case_id=case_id,
                    requested_on=asked,
                    organ="33",
                    re_review_due=asked + timedelta(days=30),
                ),
            )
            done = asked + timedelta(days=25)
            story.add(
                _at(done),
                "3301",
                a.ReReviewDecided(
                    case_id=case_id,
                    decision=a.ReviewDecision.UPHELD,
                    outcome=rng.choice(list(a.Outcome)),
                    summary="复核意见",
                    decided_on=done,
                ),
                a.CaseTerminated(case_id=case_id, reason="复核终结"),
            )
    return story


def reception_story(
    rng: random.Random,
    case_ids: Sequence[uuid.UUID],
    span: int = DEFAULT_SPAN_DAYS,
    n: int = 1,
    cases: int | None = None,
) -> Story:
    """A reception day citing ``case_ids``, on a day as :func:`case_story` picks case ``n``'s."""
    session_id = uuid.UUID(int=rng.getrandbits(128))
    day = DAY0 + timedelta(days=arrival_day(rng, n, span, cases))
    bureau = rng.choice(("3301", *SUB_BUREAUS))
    # The session's free text is sealed under the bureau's reception key for the year (the
    # service's rule, petitions.messages.reception); the instructions here stand for those
    # recorded before follow-up, on the session's stream, sealed under the same key.
    story = Story(f"reception-{session_id}", subject=r.reception_text_subject(bureau, day.year))
    story.add(
        _at(day, 8),
        bureau,
        r.ReceptionSessionScheduled(
            session_id=session_id,
            bureau=bureau,
            day=day,
            leader_id="L01",
            leader_name="陈局长",
            leader_title="局长",
            chief_day=day.weekday() == 2,
            place="市局接待大厅",
            attending_departments=("信访科", "法制", "纪检", "督察"),
        ),
    )
    if rng.random() < 0.1:
        story.add(
            _at(day, 9),
            bureau,
            r.ReceptionSessionMissed(
                session_id=session_id, reason="会议", reason_code=r.MissedReason.MEETING
            ),
        )
        return story
    story.add(_at(day, 9), bureau, r.ReceptionSessionHeld(session_id=session_id, held_by="陈局长"))
    for case_id in case_ids:
        story.add(
            _at(day, 11),
            bureau,
            r.LeaderInstructionRecorded(
                session_id=session_id, case_id=case_id, instruction="限期一个月化解"
            ),
        )
    return story


def case_id_of(story: Story) -> uuid.UUID:
    return uuid.UUID(story.stream_id.removeprefix("case-"))


def shared_subjects(rng: random.Random) -> list[uuid.UUID]:
    """The petitioners who come back with new matters (drawn first from the seed's generator)."""
    return [uuid.UUID(int=rng.getrandbits(128)) for _ in range(20)]


def story_groups(
    rng: random.Random,
    shared: Sequence[uuid.UUID],
    used: list[uuid.UUID],
    first_number: int = 1,
    span: int = DEFAULT_SPAN_DAYS,
    cases: int | None = None,
) -> Iterator[tuple[list[Story], int]]:
    """Endless: a case's story, with every 25th case a reception day after it (citing two of
    the recent cases) and a followed-up instruction on the first of those (added to that
    earlier story); each with the number of events it added. ``used`` collects the shared
    subjects that appeared."""
    n = first_number - 1
    recent: deque[Story] = deque(maxlen=30)
    while True:
        n += 1
        # A few petitioners come back with new matters: their subjects recur on several cases.
        subjects = [rng.choice(shared)] if rng.random() < 0.05 else []
        used += [s for s in subjects if s not in used]
        story = case_story(rng, n, subjects, span, cases)
        recent.append(story)
        group = [story]
        added = story.events
        if n % 25 == 0:
            recent_cases = [s for s in recent if s.stream_id.startswith("case-")]
            picked = rng.sample(recent_cases, 2)
            session = reception_story(rng, [case_id_of(s) for s in picked], span, n, cases)
            recent.append(session)
            group.append(session)
            added += session.events + follow_up(rng, picked[0], open_from(span, cases))
        yield group, added


def histories(events: int, seed: int = 7) -> tuple[list[Story], list[uuid.UUID]]:
    """Stories of about ``events`` events in all, and the data subjects to erase afterwards."""
    rng = random.Random(seed)
    stories: list[Story] = []
    total = 0
    used: list[uuid.UUID] = []
    for group, added in story_groups(rng, shared_subjects(rng), used):
        stories += group
        total += added
        if total >= events:
            break
    return stories, used[:3]


def follow_up(rng: random.Random, story: Story, first_open: date | None = None) -> int:
    """A followed-up instruction (批示) on the case's own stream, answered half the time (always
    if given before ``first_open``): how many events it added. Its session is one of no
    stream (a session the log does not hold), so the fold's result does not hang on which of
    two streams was written first."""
    first = story.appends[0][0]
    last = story.appends[-1][-1].occurred_at or first.occurred_at
    assert last is not None
    case_id = case_id_of(story)
    iid = uuid.UUID(int=rng.getrandbits(128))
    day = (last + SHANGHAI_OFFSET).date()
    story.add(
        last + timedelta(hours=1),
        first.bureau,
        r.LeaderInstructionRecorded(
            session_id=uuid.UUID(int=rng.getrandbits(128)),
            case_id=case_id,
            instruction="限期十个工作日内答复",
            instruction_id=iid,
            instructed_on=day,
            answering_unit=first.bureau,
            due_on=day + timedelta(days=14),
            due_set_by="default",
        ),
    )
    if rng.random() < 0.5 and (first_open is None or day >= first_open):
        return 1
    answered_on = day + timedelta(days=rng.randint(1, 20))
    story.add(
        last + timedelta(days=2),
        first.bureau,
        r.InstructionAnswered(
            case_id=case_id,
            instruction_id=iid,
            unit=first.bureau,
            answer="已核查并答复信访人",
            answered_on=answered_on,
            on_time=answered_on <= day + timedelta(days=14),
        ),
    )
    return 2


META = Metadata(actor="bench", service="bench")


async def write(store: EventStore, stories: Sequence[Story], writers: int = 8) -> int:
    """Append every story in its own order, ``writers`` at once, interleaving the cases."""
    queues: list[list[Story]] = [list(stories[w::writers]) for w in range(writers)]
    written = 0

    async def writer(mine: list[Story]) -> None:
        nonlocal written
        # Round-robin over a window of this writer's cases: their events interleave.
        window = 20
        active: list[tuple[Story, int, int]] = []
        pending = iter(mine)
        while True:
            while len(active) < window:
                nxt = next(pending, None)
                if nxt is None:
                    break
                active.append((nxt, 0, 0))
            if not active:
                return
            still: list[tuple[Story, int, int]] = []
            for story, step, version in active:
                batch = story.appends[step]
                await store.append(story.stream_id, batch, version, metadata=META)
                written += len(batch)
                if step + 1 < len(story.appends):
                    still.append((story, step + 1, version + len(batch)))
            active = still

    await asyncio.gather(*(writer(q) for q in queues))
    return written


# ------------------------------------------------------------------------------------ machine


def _machine_jiffies() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def _machine_busy(seconds: float = 2.0) -> float:
    busy0, total0 = _machine_jiffies()
    await asyncio.sleep(seconds)
    busy1, total1 = _machine_jiffies()
    return round((busy1 - busy0) / max(1, total1 - total0), 2)


# ------------------------------------------------------------------------------------ rebuild


async def _fresh_database(admin: asyncpg.Connection, admin_url: str, prefix: str) -> str:
    from petitions.eventstore import apply_migrations

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_url.rpartition("/")[0] + "/" + name
    await apply_migrations(dsn)
    return dsn


async def _raw_read(dsn: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        count, last = 0, 0
        while True:
            rows = await conn.fetch(
                "SELECT * FROM eventstore.events WHERE position > $1 ORDER BY position LIMIT 5000",
                last,
            )
            if not rows:
                break
            count += len(rows)
            last = rows[-1]["position"]
        return count / (time.perf_counter() - started)
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------- endpoints

# How many timed calls per endpoint (after a warm-up of one per pooled connection). More calls
# than 5 per pooled connection on purpose: PostgreSQL re-plans a prepared statement with a
# generic plan from its sixth run, and a report must stay fast after that.
ENDPOINT_CALLS = int(os.environ.get("BENCH_REPORTING_CALLS", "24"))
XLSX_CALLS = int(os.environ.get("BENCH_REPORTING_XLSX_CALLS", "6"))
READ_POOL_SIZE = 4


def _endpoint_requests(weeks: int = 36, months: int = 9) -> dict[str, list[dict[str, Any]]]:
    """Each endpoint's calls, parameters varied over the log's span (2026-03 to 2027-01)."""
    n = ENDPOINT_CALLS
    week_labels = [f"2026-W{12 + k % weeks:02d}" for k in range(n)]
    month_labels = [f"2026-{4 + k % months:02d}" for k in range(n)]
    return {
        "figures_city_year": [
            {"path": "figures", "params": {"year": "2026", "as_of": f"2027-01-{1 + k % 28:02d}"}}
            for k in range(n)
        ],
        "figures_sub_bureau_month": [
            {
                "path": "figures",
                "params": {
                    "month": month_labels[k],
                    "bureau": SUB_BUREAUS[k % len(SUB_BUREAUS)],
                    "as_of": "2027-01-31",
                },
            }
            for k in range(n)
        ],
        "ledger_first_page": [
            {"path": "ledger", "params": {"as_of": f"2026-12-{1 + k % 28:02d}"}} for k in range(n)
        ],
        "ledger_filtered_page": [
            {
                "path": "ledger",
                "params": {
                    "sub_bureau": SUB_BUREAUS[k % len(SUB_BUREAUS)],
                    "open": "true",
                    "received_from": f"{month_labels[k]}-01",
                    "as_of": "2026-12-31",
                    "offset": 50 * (k % 3),
                },
            }
            for k in range(n)
        ],
        "ledger_xlsx_10k_rows": [
            {"path": "ledger.xlsx", "params": {"as_of": f"2026-12-{1 + k:02d}"}}
            for k in range(XLSX_CALLS)
        ],
        "weekly_bulletin": [{"path": f"weekly/{week_labels[k]}", "params": {}} for k in range(n)],
        "monthly_analysis": [
            {"path": f"monthly/{month_labels[k]}", "params": {}} for k in range(n)
        ],
        "accompany_roster": [
            {"path": "accompany-roster", "params": {"month": month_labels[k]}} for k in range(n)
        ],
    }


def _url(path: str) -> str:
    """A call's URL: a report's path, or an absolute one (the audit API)."""
    return path if path.startswith("/") else f"/api/v1/reports/{path}"


async def _endpoint_figures(
    read_pool: asyncpg.Pool,
    plan: dict[str, list[dict[str, Any]]] | None = None,
    store: EventStore | None = None,
    now: datetime = datetime(2027, 1, 15, 2, tzinfo=UTC),
) -> dict[str, Any]:
    """p50/p95 (ms) and response size of the report endpoints, in process over ASGI (the HTTP
    stack's routing, validation and JSON included, no socket), city petition office token.
    ``plan``: the calls (default :func:`_endpoint_requests`); ``store``: also serve the audit
    API, reading that (keyless) store; ``now``: the services' clock (a fixed moment inside the
    log's span: the bulletin's default "as of" is today)."""
    from fastapi import FastAPI
    from petitions.bureaus import load_config, load_work_calendar
    from petitions.identity import (
        DEV_AUDIENCE,
        DEV_ISSUER,
        LocalIssuer,
        StaticJwks,
        TokenVerifier,
        authenticate,
        install_auth_errors,
    )
    from reporting.adapters.postgres import PostgresCaseFinder
    from reporting.audit import Audit
    from reporting.entrypoints.audit import router as audit_router
    from reporting.entrypoints.http import router

    from bench.intake import _quantile

    config = load_config(BUREAU_CONFIG)
    calendar = load_work_calendar(config)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reporting-") as tmp:
        issuer = LocalIssuer(Path(tmp) / "issuer.pem", create=True)
        verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
        app = FastAPI()
        install_auth_errors(app)
        app.include_router(
            router(
                lambda: read_pool,
                config,
                calendar,
                authenticate(lambda: verifier),
                clock=lambda: now,
            )
        )
        if store is not None:
            audit_store = store
            app.include_router(
                audit_router(
                    lambda: audit_store,
                    lambda: Audit(audit_store, PostgresCaseFinder(audit_store, read_pool)),
                    authenticate(lambda: verifier),
                    config=config,
                )
            )
        plan = plan if plan is not None else _endpoint_requests()
        token = issuer.mint("office-01", "petition_office", "3301")
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://reporting", timeout=120
        ) as client:
            for name, calls in plan.items():
                print(f"  measuring {name} ...", flush=True)
                # Warm-up: one call per pooled connection, not timed.
                for call in calls[:READ_POOL_SIZE]:
                    await client.get(_url(call["path"]), params=call["params"], headers=headers)
                times: list[float] = []
                sizes: list[int] = []
                for call in calls:
                    started = time.perf_counter()
                    response = await client.get(
                        _url(call["path"]), params=call["params"], headers=headers
                    )
                    times.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                    sizes.append(len(response.content))
                figures[name] = {
                    "p50_ms": round(_quantile(times, 0.5) * 1000, 1),
                    "p95_ms": round(_quantile(times, 0.95) * 1000, 1),
                    "calls": len(times),
                    "max_bytes": max(sizes),
                }
    return figures


async def _rebuild_figures(admin: asyncpg.Connection, admin_url: str) -> dict[str, Any]:
    from reporting.projections import create_read_pool, migrate, rebuild

    dsn = await _fresh_database(admin, admin_url, "bench_reporting")
    try:
        pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=8, db_pool_max=8))
        keys = PersonalData(
            DataKeys(pool, LocalKeyService(os.urandom(16))), BlindIndex(os.urandom(32))
        )
        store = EventStore(pool, personal=keys)
        print(f"  writing about {REBUILD_EVENTS:,} realistic events ...", flush=True)
        stories, erase = histories(REBUILD_EVENTS)
        written = await write(store, stories)
        for subject in erase:
            await store.erase_subject(subject, reason="本人申请删除", metadata=META)
        await pool.execute("ANALYZE eventstore.events")
        await migrate(dsn, role="petitions_app")
        read_pool = await create_read_pool(dsn, role="petitions_app", max_size=READ_POOL_SIZE)
        try:
            busy = await _machine_busy()
            print("  measuring raw_read_rows_per_s ...", flush=True)
            raw = await _raw_read(dsn)
            print("  measuring rebuild_eps ...", flush=True)
            busy0, total0 = _machine_jiffies()
            result = await rebuild(store, read_pool, progress=False)
            busy1, total1 = _machine_jiffies()
            cases = await read_pool.fetchval("SELECT count(*) FROM cases")
            endpoints = await _endpoint_figures(read_pool)
        finally:
            await read_pool.close()
            await pool.close()
        return {
            "rebuild_eps": result.eps,
            "raw_read_rows_per_s": round(raw),
            "rebuild_events": result.events,
            "rebuild_seconds": result.seconds,
            "rebuild_cases": cases,
            "events_written": written,
            "rebuild_machine_busy": round((busy1 - busy0) / max(1, total1 - total0), 2),
            "machine_busy_before_rebuild": busy,
            "endpoints": endpoints,
        }
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')


# ---------------------------------------------------------------------------------- freshness


@contextlib.contextmanager
def _process(module: str, env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**env, "PETITIONS_HTTP_PORT": str(port), "PETITIONS_HTTP_HOST": "127.0.0.1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _healthy(client: httpx.AsyncClient, url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(f"{url}/health")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]  # noqa: ASYNC240  (start-up failed: no hurry)
    raise RuntimeError(f"{url} not healthy within 60 s:\n{tail}")


async def _freshness(admin: asyncpg.Connection, admin_url: str, nats_url: str) -> dict[str, Any]:
    from bench.intake import Requests, _free_port, _quantile, _quiet_httpcore, service_env

    # Earlier benchmarks (intake's) left their events on the shared stream; a fresh consumer
    # would have to wade through them first, measuring their backlog, not freshness.
    nc = await nats.connect(nats_url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await nc.jetstream().delete_stream(STREAM)
    await nc.close()
    # The deployment's step: the stream and durables again (services only bind).
    await provision(NatsAccess(nats_url))
    name = f"bench_reporting_f_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_url.rpartition("/")[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reporting-") as tmp:
            env, issuer = service_env(dsn, nats_url, tmp)
            tokens = {
                b: {
                    "Authorization": f"Bearer {issuer.mint(f'clerk-{b}', 'registrar', b)}",
                    "Content-Type": "application/json",
                }
                for b in SUB_BUREAUS
            }
            requests = Requests(SUB_BUREAUS, tokens)
            _quiet_httpcore()
            intake_log, reporting_log = Path(tmp) / "intake.log", Path(tmp) / "reporting.log"
            with (
                _process("intake", env, intake_log, _free_port()) as intake_url,
                _process("reporting", env, reporting_log, _free_port()) as reporting_url,
            ):
                async with httpx.AsyncClient(timeout=10) as client:
                    await _healthy(client, intake_url, intake_log)
                    await _healthy(client, reporting_url, reporting_log)
                    return await _drive_freshness(
                        client, intake_url, dsn, nats_url, requests, _quantile
                    )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _drive_freshness(
    client: httpx.AsyncClient,
    intake_url: str,
    dsn: str,
    nats_url: str,
    requests: Any,
    quantile: Any,
) -> dict[str, Any]:
    sent: dict[uuid.UUID, float] = {}
    seen: dict[uuid.UUID, float] = {}
    on_nats: dict[uuid.UUID, float] = {}
    errors = 0
    conn = await asyncpg.connect(dsn)
    stop = asyncio.Event()

    async def arrived(msg: Msg) -> None:
        # Where the time goes: intake and the relay (until on NATS), then the projection.
        headers = msg.headers or {}
        if headers.get("Petitions-Type") == "intake.CaseRegistered":
            stream = headers.get("Petitions-Stream", "")
            on_nats.setdefault(uuid.UUID(stream.removeprefix("case-")), time.perf_counter())

    nc = await nats.connect(nats_url, name="bench-reporting")
    await nc.subscribe("petitions.events.>", cb=arrived)

    async def poll() -> None:
        while not stop.is_set() or len(seen) < len(sent):
            waiting = [c for c in sent if c not in seen]
            if waiting:
                rows = await conn.fetch(
                    "SELECT case_id FROM reporting.cases WHERE case_id = ANY($1::uuid[])", waiting
                )
                now = time.perf_counter()
                for row in rows:
                    seen.setdefault(row["case_id"], now)
            if stop.is_set() and time.perf_counter() > stop_at + 10:
                return
            await asyncio.sleep(POLL_S)

    async def one(body: bytes, headers: dict[str, str]) -> None:
        nonlocal errors
        started = time.perf_counter()
        response = await client.post(
            f"{intake_url}/api/v1/submissions", content=body, headers=headers
        )
        if response.status_code != 201:
            errors += 1
            return
        sent[uuid.UUID(response.json()["case_id"])] = started

    # A warm-up, not counted: connections open, the consumer has its subscription.
    for body, headers in requests.take(20):
        await one(body, headers)
    sent.clear()
    stop_at = float("inf")
    poller = asyncio.create_task(poll())
    count = round(FRESHNESS_RATE * FRESHNESS_SECONDS)
    tasks = []
    begin = time.perf_counter()
    for n, (body, headers) in enumerate(requests.take(count)):
        delay = begin + n / FRESHNESS_RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, headers)))
    await asyncio.gather(*tasks)
    stop_at = time.perf_counter()
    stop.set()
    await poller
    await conn.close()
    await nc.close()
    delays = [seen[c] - t for c, t in sent.items() if c in seen]
    relayed = [on_nats[c] - t for c, t in sent.items() if c in on_nats]
    projected = [seen[c] - on_nats[c] for c in sent if c in seen and c in on_nats]

    def ms(values: list[float], q: float) -> float | None:
        return round(quantile(values, q) * 1000, 1) if values else None

    return {
        "freshness_nats_p50_ms": ms(relayed, 0.5),
        "freshness_nats_p99_ms": ms(relayed, 0.99),
        "freshness_projection_p50_ms": ms(projected, 0.5),
        "freshness_projection_p99_ms": ms(projected, 0.99),
        "freshness_p50_ms": round(quantile(delays, 0.5) * 1000, 1) if delays else None,
        "freshness_p99_ms": round(quantile(delays, 0.99) * 1000, 1) if delays else None,
        "freshness_max_ms": round(max(delays) * 1000, 1) if delays else None,
        "freshness_sent": len(sent),
        "freshness_missing": len(sent) - len(delays),
        "freshness_errors": errors,
        "freshness_rate": FRESHNESS_RATE,
        "freshness_poll_ms": POLL_S * 1000,
    }


# ------------------------------------------------------------------------------------ run


async def run(admin_url: str, nats_url: str) -> dict[str, Any]:
    admin = await asyncpg.connect(admin_url)
    try:
        figures: dict[str, Any] = {"machine_busy_before": await _machine_busy()}
        figures.update(await _rebuild_figures(admin, admin_url))
        if FRESHNESS:
            print(f"  measuring freshness at {FRESHNESS_RATE}/s ...", flush=True)
            figures.update(await _freshness(admin, admin_url, nats_url))
        return figures
    finally:
        await admin.close()


def report(figures: dict[str, Any]) -> None:
    eps, raw = figures["rebuild_eps"], figures["raw_read_rows_per_s"]
    verdict = "met" if eps >= TARGET_REBUILD_EPS else "MISSED"
    print(f"\n{'figure':44} {'measured':>12}  target")
    print(f"{'rebuild (events/s)':44} {eps:>12,}  >= {TARGET_REBUILD_EPS:,}/s {verdict}")
    print(f"{'raw SELECT of the events table (rows/s)':44} {raw:>12,}  (ceiling; {eps / raw:.0%})")
    for name, endpoint in figures["endpoints"].items():
        print(
            f"{name + ' p50 / p95 (ms)':44} {endpoint['p50_ms']:>12} / {endpoint['p95_ms']}"
            f"  ({endpoint['max_bytes']:,} bytes)"
        )
    print(
        f"rebuild: {figures['rebuild_events']:,} events ({figures['rebuild_cases']:,} cases) in "
        f"{figures['rebuild_seconds']} s; machine busy before: "
        f"{figures['machine_busy_before']:.0%}"
    )
    if "freshness_p50_ms" in figures:
        print(f"{'freshness p50 (ms)':44} {figures['freshness_p50_ms']!s:>12}")
        print(f"{'freshness p99 (ms)':44} {figures['freshness_p99_ms']!s:>12}")
        print(
            f"freshness: {figures['freshness_sent']} registrations at {FRESHNESS_RATE}/s, "
            f"{figures['freshness_missing']} never seen, polled every "
            f"{figures['freshness_poll_ms']} ms"
        )


def main(admin_url: str, nats_url: str) -> dict[str, Any]:
    print("== reporting benchmark 台帐统计基准")
    figures = asyncio.run(run(admin_url, nats_url))
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = Path(os.environ.get("BENCH_REPORTING_RESULTS", RESULTS))
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")
    return figures
