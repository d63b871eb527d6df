"""The accompany roster published once a month (issue 15): computed at the start of month M+1
from month M as it stands then, and appended as ``reporting.AccompanyRosterPublished`` to the
stream ``roster-<city bureau>-<YYYY-MM>``. Later outcomes (a case judged justified in May for a
March petition) change what the roster would be now, never what was published: the reports
show both. Publishing is idempotent per month: the stream holds at most one event.

Three ways publish: the petition office (``POST /api/v1/reports/accompany-roster/publish``), the
operator (``python -m reporting publish-roster [--for-month YYYY-MM]``), and the reporting
service itself: a supervised task (:func:`publish_monthly`) checks every
``roster_check_interval_seconds`` and publishes the current month's roster (Asia/Shanghai) when it
is not yet published and the read models are current (its projection has nothing pending),
so on the month's first day, or at the first start after it when no replica ran then.
Replicas race harmlessly: the first append wins, the others find it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any

import asyncpg
from petitions.bureaus import BureauConfig
from petitions.clock import Clock
from petitions.eventstore import EventStore, Metadata, NewEvent, WrongExpectedVersionError
from petitions.log import get_logger
from petitions.messages.reporting import AccompanyRosterPublished, RosterCount

from reporting.queries import periods
from reporting.queries.common import bureau_ref
from reporting.queries.figures import accompany_roster
from reporting.queries.models import AccompanyRoster, PublishedRoster, RosterEntry

SERVICE = "reporting"
SCHEDULER = "reporting.scheduler"
"""The actor of a roster the service published by itself (``published_by``)."""

log = get_logger(__name__)


class RosterNotDue(Exception):
    """A month's roster is published from its first day on, when the month counted is over."""


def roster_stream(bureau: str, applies_to: str) -> str:
    return f"roster-{bureau}-{applies_to}"


def publication(roster: AccompanyRoster, bureau: str, today: date) -> AccompanyRosterPublished:
    """The event that publishes ``roster`` (pure)."""

    def counts(entries: list[RosterEntry]) -> tuple[RosterCount, ...]:
        return tuple(
            RosterCount(
                rank=e.rank,
                sub_bureau=e.sub_bureau.code,
                head=e.head,
                justified_to_city=e.justified_to_city,
                submissions_to_city=e.submissions_to_city,
            )
            for e in entries
        )

    return AccompanyRosterPublished(
        bureau=bureau,
        applies_to=roster.applies_to,
        counted_month=roster.counted_month,
        published_on=today,
        roster=counts(roster.roster),
        candidates=counts(roster.candidates),
    )


def _entries(config: BureauConfig, counts: tuple[RosterCount, ...]) -> list[RosterEntry]:
    return [
        RosterEntry(
            rank=c.rank,
            sub_bureau=bureau_ref(config, c.sub_bureau),
            head=c.head,  # as published, even if the configuration names another head since
            justified_to_city=c.justified_to_city,
            submissions_to_city=c.submissions_to_city,
        )
        for c in counts
    ]


async def published(
    store: EventStore, config: BureauConfig, applies_to: str
) -> PublishedRoster | None:
    """The roster published for ``applies_to`` (YYYY-MM), if it was."""
    events = await store.read_stream(roster_stream(config.city.code, applies_to), reveal=False)
    for recorded in events:
        data: Any = recorded.data
        if isinstance(data, AccompanyRosterPublished):
            return PublishedRoster(
                published_on=data.published_on,
                published_by=recorded.actor,
                roster=_entries(config, data.roster),
                candidates=_entries(config, data.candidates),
            )
    return None


async def publish(
    store: EventStore, db: Any, config: BureauConfig, applies_to: str, today: date, actor: str
) -> tuple[PublishedRoster, bool]:
    """Publish the roster for ``applies_to`` unless it is published already; True when this
    call published it. Refused before the month begins (its counted month is not over)."""
    month = periods.month(applies_to)
    if today < month.start:
        raise RosterNotDue(
            f"{applies_to} 的陪同接访名单自 {month.start} 起发布（计数月份尚未结束）/ the "
            f"roster for {applies_to} is published from {month.start} on (the month counted "
            "is not over)"
        )
    found = await published(store, config, applies_to)
    if found is not None:
        return found, False
    roster = await accompany_roster(db, config, periods.shift_months(month, -1))
    event = publication(roster, config.city.code, today)
    try:
        await store.append(
            roster_stream(config.city.code, applies_to),
            [NewEvent(event, bureau=config.city.code)],
            0,
            metadata=Metadata(actor=actor, service=SERVICE),
        )
        created = True
    except WrongExpectedVersionError:
        created = False  # another replica published it first: theirs stands
    found = await published(store, config, applies_to)
    assert found is not None
    return found, created


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def publish_current(
    store: EventStore,
    read_pool: asyncpg.Pool,
    config: BureauConfig,
    clock: Clock,
    actor: str = SCHEDULER,
) -> tuple[PublishedRoster | None, bool]:
    """Publish this month's roster (today in Asia/Shanghai on ``clock``) unless it is already;
    True when this call published it. None, and nothing appended, while the read models hold no
    submission at all in the month counted: an office without a single petition in a month is
    far less likely than read models not yet loaded (a new installation, the demo importing its
    history), and a roster is published for good (the office or the operator can still publish
    an empty one on purpose)."""
    today = periods.local_today(clock())
    applies_to = month_of(today)
    counted = periods.shift_months(periods.month(applies_to), -1)
    async with (
        read_pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        found = await published(store, config, applies_to)
        if found is not None:
            return found, False
        if not await conn.fetchval(_ANY_SUBMISSION, counted.start, counted.end):
            return None, False
        return await publish(store, conn, config, applies_to, today, actor)


_ANY_SUBMISSION = "SELECT EXISTS (SELECT 1 FROM submissions WHERE received_on BETWEEN $1 AND $2)"


async def publish_monthly(
    store: EventStore,
    read_pool: asyncpg.Pool,
    config: BureauConfig,
    clock: Clock,
    *,
    interval: float,
    stop: asyncio.Event,
    ready: Callable[[], bool] = lambda: True,
) -> None:
    """The service's own publication: check at start and then every ``interval`` seconds until
    ``stop``. ``ready`` says whether the read models are current (the projection has nothing
    pending): a roster is published once and for good, so one counted on read models still
    catching up (a fresh start, a rebuild) would freeze a wrong roster; until ready, look again
    within a minute. A failed check (database away) is logged and retried at the next one."""
    while not stop.is_set():
        wait = interval
        try:
            if not ready():
                wait = min(interval, 60.0)
                log.info("roster.waiting_for_projection")
            else:
                found, created = await publish_current(store, read_pool, config, clock)
                if found is None:
                    log.info("roster.no_data_yet")
                elif created:
                    log.info(
                        "roster.published",
                        applies_to=month_of(periods.local_today(clock())),
                        published_on=str(found.published_on),
                        by=SCHEDULER,
                    )
        except Exception as exc:
            log.warning("roster.publication_failed", error=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
