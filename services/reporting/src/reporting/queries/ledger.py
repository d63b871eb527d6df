"""台帐 the ledger: one row per case, with names for its codes, filtered and paged.

A bureau's ledger holds the cases attributed to it, received by it or assigned to it (a handler
needs the cases their unit answers for, wherever the matter arose); the city bureau's holds all.
Art. 30 rows naming the viewer as accused are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from petitions.bureaus import BureauConfig, split_note

from reporting.queries.common import (
    CATEGORY_KIND_ZH,
    CHANNEL_ZH,
    NOT_ACCEPTED_ZH,
    OUTCOME_ZH,
    STATE_ZH,
    Db,
    SqlFilter,
    Viewer,
    bureau_ref,
    category_name,
    is_city,
    is_open,
    label,
    running_deadline,
    running_due,
    unit_name,
)
from reporting.queries.figures import DECIDED_ON
from reporting.queries.models import LedgerPage, LedgerRow
from reporting.queries.ownership import OWNERSHIP_COLUMNS, ownership
from reporting.queries.periods import Period, local, to_local

MAX_PAGE = 500
MAX_EXPORT = 50_000
COUNT_CAP = 100_000
"""The ledger counts its matching cases up to this many and says "more" beyond: counting a
decade's million cases row by row took 0.7 s of its first page (issue 17), and nobody pages
through more (the figures count every case exactly)."""


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """Every field narrows the ledger; None leaves it open."""

    sub_bureau: str | None = None
    category: str | None = None  # this category and every one below it
    category_kind: str | None = None
    state: str | None = None
    received: Period | None = None  # the first submission's local date
    open: bool | None = None  # a statutory clock still runs
    overdue: bool | None = None  # ... and has run out by the report date
    congress: bool | None = None
    justified: bool | None = None
    collective: bool | None = None
    skip_level: bool | None = None
    repeat: bool | None = None
    supervised: bool | None = None
    responsible_unit: str | None = None
    case_number: str | None = None  # any part of it
    reception_session: UUID | None = None  # a visit of the case was received at it
    # The assessed rates' cases, judged by the report date as domain.md defines the rates: True
    # gives the cases a rate counts as its numerator, False the rest of its denominator; cases
    # outside the denominator (not yet decided, rated or replied) match neither.
    timely_accepted: bool | None = None  # decided within the acceptance deadline
    satisfied: bool | None = None  # latest rating satisfied or basically satisfied
    first_petition_resolved: bool | None = None  # no repeat, no review request after the reply


_COLUMNS = f"""
    c.case_id, c.case_number, c.bureau, c.sub_bureau, c.category, c.category_kind,
    c.petitioners, c.petitioner_ids, c.head_count, c.channel, c.first_received_at,
    c.registered_at, c.first_receiver, c.state, c.responsible_unit, c.responsible_officer,
    c.owning_leader, c.leader_plan, c.acceptance_due, c.accepted_on, c.handling_due,
    c.extended_days, c.review_due, c.re_review_due, c.not_accepted, c.not_accepted_on,
    c.preliminary_assessment, c.outcome, c.justified, c.replied_on, c.on_time, c.satisfaction,
    c.terminated_on, c.submissions, c.repeat_count, c.last_received_at, c.collective,
    c.escalation, c.congress, c.congress_report_on, c.supervised, c.latest_progress_week,
    c.latest_progress_note, c.provisional_deadlines, c.calendar_note, {OWNERSHIP_COLUMNS},
    {running_deadline()} AS running_deadline,
    {running_due()} AS running_due
"""


def case_filter(
    config: BureauConfig,
    viewer: Viewer,
    bureau: str,
    filters: LedgerFilter,
    as_of: date,
) -> SqlFilter:
    """The WHERE clause of a ledger query (``as_of`` judges "overdue")."""
    where = SqlFilter()
    where.visible_to(config, viewer)
    if not is_city(config, bureau):
        b = where.param(bureau)
        where.add(f"c.sub_bureau = {b} OR c.bureau = {b} OR c.responsible_unit = {b}")
    if filters.sub_bureau is not None:
        where.add(f"c.sub_bureau = {where.param(filters.sub_bureau)}")
    if filters.category is not None:
        # A prefix test without LIKE: category codes may contain "_", a LIKE wildcard.
        code = where.param(filters.category)
        where.add(f"left(c.category, length({code})) = {code}")
    if filters.category_kind is not None:
        where.add(f"c.category_kind = {where.param(filters.category_kind)}")
    if filters.state is not None:
        where.add(f"c.state = {where.param(filters.state)}")
    if filters.received is not None:
        lower, upper = filters.received.utc_bounds()
        where.add(f"c.first_received_at >= {where.param(lower)}")
        where.add(f"c.first_received_at < {where.param(upper)}")
    if filters.open is not None:
        where.add(is_open() if filters.open else f"NOT {is_open()}")
    if filters.overdue is not None:
        day, wanted = where.param(as_of), where.param(filters.overdue)
        where.add(f"coalesce(({running_due()}) < {day}::date, false) = {wanted}")
    for column, value in (
        ("congress", filters.congress),
        ("justified", filters.justified),
        ("collective", filters.collective),
        ("supervised", filters.supervised),
    ):
        if value is not None:
            where.add(f"c.{column} = {where.param(value)}")
    if filters.skip_level is not None:
        where.add(f"c.escalation IS {'NOT ' if filters.skip_level else ''}NULL")
    if filters.repeat is not None:
        where.add(f"(c.repeat_count > 0) = {where.param(filters.repeat)}")
    if filters.responsible_unit is not None:
        where.add(f"c.responsible_unit = {where.param(filters.responsible_unit)}")
    if filters.case_number:
        where.add(f"strpos(c.case_number, {where.param(filters.case_number)}) > 0")
    judged: str | None = None
    if filters.timely_accepted is not None:
        judged = where.param(as_of)
        where.add(f"({DECIDED_ON}) <= {judged}::date")
        where.add(
            f"coalesce(({DECIDED_ON}) <= c.acceptance_due, false) = "
            f"{where.param(filters.timely_accepted)}"
        )
    if filters.satisfied is not None:
        judged = judged or where.param(as_of)
        latest = (
            "(SELECT r.rating FROM unnest(c.rated_on, c.ratings) WITH ORDINALITY "
            f"AS r(rated_on, rating, n) WHERE r.rated_on <= {judged}::date "
            "ORDER BY r.rated_on DESC, r.n DESC LIMIT 1)"
        )
        where.add(f"{latest} IS NOT NULL")
        where.add(
            f"({latest} IN ('satisfied', 'basically_satisfied')) = {where.param(filters.satisfied)}"
        )
    if filters.first_petition_resolved is not None:
        judged = judged or where.param(as_of)
        where.add(f"c.replied_on <= {judged}::date")
        # As the figure judges it (figures._PERIOD_CASES): a repeat after the reply by D, or
        # a review requested after it by D.
        unresolved = (
            f"(coalesce(c.repeated_after_reply_on <= {judged}::date, false) "
            f"OR coalesce(c.review_requested_on > c.replied_on "
            f"AND c.review_requested_on <= {judged}::date, false))"
        )
        where.add(f"(NOT {unresolved}) = {where.param(filters.first_petition_resolved)}")
    if filters.reception_session is not None:
        where.add(
            "EXISTS (SELECT 1 FROM submissions s WHERE s.case_id = c.case_id "
            f"AND s.reception_session_id = {where.param(filters.reception_session)})"
        )
    return where


async def ledger(
    db: Db,
    config: BureauConfig,
    viewer: Viewer,
    bureau: str,
    filters: LedgerFilter = LedgerFilter(),
    *,
    as_of: date,
    limit: int = 50,
    offset: int = 0,
    count_cap: int = COUNT_CAP,
) -> LedgerPage:
    """One page of ``bureau``'s ledger as ``viewer`` may see it, newest matter first, with the
    number of matching cases counted up to ``count_cap``."""
    config.covered_by(bureau)
    limit = max(1, min(limit, MAX_EXPORT))
    where = case_filter(config, viewer, bureau, filters, as_of)
    counted = await db.fetchval(
        f"SELECT count(*) FROM (SELECT FROM cases c WHERE {where.sql()} "
        f"LIMIT {int(count_cap) + 1}) matching",
        *where.args,
    )
    page_limit, page_offset = where.param(limit), where.param(max(0, offset))
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM cases c WHERE {where.sql()} "
        f"ORDER BY c.first_received_at DESC, c.case_number DESC "
        f"LIMIT {page_limit} OFFSET {page_offset}",
        *where.args,
    )
    return LedgerPage(
        bureau=bureau_ref(config, bureau),
        as_of=as_of,
        total=min(counted, count_cap),
        total_capped=counted > count_cap,
        limit=limit,
        offset=max(0, offset),
        rows=[ledger_row(config, row, as_of) for row in rows],
    )


def ledger_row(config: BureauConfig, row: Any, as_of: date) -> LedgerRow:
    due = row["running_due"]
    marked = list(row["provisional_deadlines"] or [])
    zh, en = split_note(row["calendar_note"] or "")
    return LedgerRow(
        case_id=row["case_id"],
        case_number=row["case_number"],
        bureau=row["bureau"],
        bureau_name=unit_name(config, row["bureau"]),
        sub_bureau=row["sub_bureau"],
        sub_bureau_name=unit_name(config, row["sub_bureau"]),
        category=row["category"],
        category_name=category_name(config, row["category"]),
        category_kind=row["category_kind"],
        category_kind_name=label(CATEGORY_KIND_ZH, row["category_kind"]),
        petitioners=row["petitioners"],
        petitioner_ids=row["petitioner_ids"],
        head_count=row["head_count"],
        channel=row["channel"],
        channel_name=label(CHANNEL_ZH, row["channel"]),
        first_received_at=local(row["first_received_at"]),
        registered_at=local(row["registered_at"]),
        first_receiver=row["first_receiver"],
        state=row["state"],
        state_name=label(STATE_ZH, row["state"]),
        responsible_unit=row["responsible_unit"],
        responsible_unit_name=unit_name(config, row["responsible_unit"]),
        responsible_officer=row["responsible_officer"],
        owning_leader=row["owning_leader"],
        leader_plan=row["leader_plan"],
        acceptance_due=row["acceptance_due"],
        accepted_on=row["accepted_on"],
        handling_due=row["handling_due"],
        extended_days=row["extended_days"],
        review_due=row["review_due"],
        re_review_due=row["re_review_due"],
        not_accepted=row["not_accepted"],
        not_accepted_name=label(NOT_ACCEPTED_ZH, row["not_accepted"]),
        not_accepted_on=row["not_accepted_on"],
        preliminary_assessment=row["preliminary_assessment"],
        outcome=row["outcome"],
        outcome_name=label(OUTCOME_ZH, row["outcome"]),
        justified=row["justified"],
        replied_on=row["replied_on"],
        on_time=row["on_time"],
        satisfaction=row["satisfaction"],
        terminated_on=row["terminated_on"],
        submissions=row["submissions"],
        repeat_count=row["repeat_count"],
        last_received_at=to_local(row["last_received_at"]),
        collective=row["collective"],
        escalation=row["escalation"],
        congress=row["congress"],
        congress_report_on=row["congress_report_on"],
        supervised=row["supervised"],
        running_deadline=row["running_deadline"],
        running_due=due,
        overdue=due is not None and due < as_of,
        latest_progress_week=row["latest_progress_week"],
        latest_progress_note=row["latest_progress_note"],
        provisional_deadlines=marked,
        provisional_reason_zh=zh if marked else "",
        provisional_reason_en=en if marked else "",
        **ownership(config, row),
    )
