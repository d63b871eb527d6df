"""Leader reception statistics (领导接访): sessions held and missed (and why, per bureau and per
leader: the days each leader missed and the reasons), the visits registered at them and the
instructions recorded. The seed counts exactly these: the chief's reception days, those missed
for meetings or illness."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError

from reporting.queries.common import Db, Viewer, bureau_ref
from reporting.queries.instructions import overdue_instructions
from reporting.queries.models import (
    DutyCheck,
    LeaderReception,
    MissedSession,
    ReasonCount,
    ReceptionStats,
    StandIn,
)
from reporting.queries.periods import Period

_SESSIONS = """
    WITH r AS (
        SELECT * FROM reception_sessions
        WHERE day BETWEEN $1 AND $2 AND bureau = ANY($3::text[])
    ), v AS (
        SELECT s.reception_session_id AS session_id, count(*) AS visits,
               sum(s.head_count) AS person_visits
        FROM submissions s JOIN r ON r.session_id = s.reception_session_id
        GROUP BY 1
    )
    SELECT r.bureau, r.day, r.leader_id, r.leader_name, r.chief_day, r.state, r.missed_reason,
           r.held_by,
           r.instructions, coalesce(v.visits, 0) AS visits,
           coalesce(v.person_visits, 0) AS person_visits
    FROM r LEFT JOIN v ON v.session_id = r.session_id
"""

_NO_REASON = "未说明原因 no reason given"


async def reception_statistics(
    db: Db,
    config: BureauConfig,
    bureau: str,
    period: Period,
    *,
    calendar: WorkCalendar | None = None,
    as_of: date | None = None,
    viewer: Viewer | None = None,
) -> ReceptionStats:
    """Sessions of ``bureau`` (the city: of every bureau) in the period; with the ``calendar``
    and the report's day ``as_of``, the duty check up to that day and, for a ``viewer``, the
    instructions overdue on it that they may see."""
    rows = await db.fetch(_SESSIONS, period.start, period.end, list(config.covered_by(bureau)))
    held = [r for r in rows if r["state"] == "held"]
    missed = [r for r in rows if r["state"] == "missed"]
    reasons = Counter(_reason(r) for r in missed)
    leaders: dict[tuple[str, str], list[Any]] = {}
    for row in sorted(rows, key=lambda r: r["day"]):
        leaders.setdefault((row["bureau"], row["leader_id"]), []).append(row)
    by_leader = []
    for (code, leader_id), mine in sorted(leaders.items()):
        mine_missed = [r for r in mine if r["state"] == "missed"]
        by_leader.append(
            LeaderReception(
                bureau=bureau_ref(config, code),
                leader_id=leader_id,
                leader_name=mine[-1]["leader_name"],
                sessions=len(mine),
                held=sum(r["state"] == "held" for r in mine),
                held_by_stand_in=sum(_stood_in(r) for r in mine),
                missed=len(mine_missed),
                missed_reasons=_counted(Counter(_reason(r) for r in mine_missed)),
                missed_sessions=[
                    MissedSession(day=r["day"], chief_day=bool(r["chief_day"]), reason=_reason(r))
                    for r in mine_missed
                ],
                chief_days=sum(bool(r["chief_day"]) for r in mine),
                visits=sum(r["visits"] for r in mine),
                person_visits=sum(int(r["person_visits"]) for r in mine),
                instructions=sum(r["instructions"] for r in mine),
            )
        )
    late, duty = None, []
    if calendar is not None and as_of is not None:
        duty = duty_check(config, calendar, bureau, period, as_of, rows)
        if viewer is not None:
            late = await overdue_instructions(db, config, calendar, viewer, bureau, as_of)
    return ReceptionStats(
        overdue_instructions=late,
        duty=duty,
        bureau=bureau_ref(config, bureau),
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        sessions=len(rows),
        held=len(held),
        missed=len(missed),
        scheduled=len(rows) - len(held) - len(missed),
        chief_days_held=sum(bool(r["chief_day"]) for r in held),
        chief_days_missed=sum(bool(r["chief_day"]) for r in missed),
        missed_reasons=_counted(reasons),
        visits=sum(r["visits"] for r in rows),
        person_visits=sum(int(r["person_visits"]) for r in rows),
        instructions=sum(r["instructions"] for r in rows),
        by_leader=by_leader,
        stand_ins=[
            StandIn(
                day=r["day"],
                bureau=bureau_ref(config, r["bureau"]),
                scheduled_leader=r["leader_name"],
                held_by=r["held_by"],
            )
            for r in sorted(held, key=lambda r: (r["day"], r["bureau"], r["leader_id"]))
            if _stood_in(r)
        ],
    )


def duty_check(
    config: BureauConfig,
    calendar: WorkCalendar,
    bureau: str,
    period: Period,
    as_of: date,
    rows: list[Any],
) -> list[DutyCheck]:
    """Each bureau ``bureau`` covers: its working days from the period's start to its end or
    ``as_of`` (the earlier), make-up days included, against the sessions scheduled on them.
    Days of a year with no holiday file are not judged (nobody can say whether they work)."""
    days: list[date] = []
    day = period.start
    while day <= min(period.end, as_of):
        try:
            if calendar.is_working_day(day):
                days.append(day)
        except YearNotConfiguredError:
            pass
        day += timedelta(days=1)
    makeup = sum(d.isoweekday() > 5 for d in days)
    scheduled = Counter((r["bureau"], r["day"]) for r in rows)
    missed = {(r["bureau"], r["day"]) for r in rows if r["state"] == "missed"}
    return [
        DutyCheck(
            bureau=bureau_ref(config, code),
            working_days=len(days),
            makeup_days=makeup,
            covered_days=sum(scheduled[(code, d)] > 0 for d in days),
            uncovered_days=[d for d in days if not scheduled[(code, d)]],
            crowded_days=[d for d in days if scheduled[(code, d)] > 1],
            missed_days=sum((code, d) in missed for d in days),
        )
        for code in config.covered_by(bureau)
    ]


def _reason(row: Any) -> str:
    return (row["missed_reason"] or "").strip() or _NO_REASON


def _counted(reasons: Counter[str]) -> list[ReasonCount]:
    """Reasons with their sessions, most frequent first (ties: by the reason's text)."""
    return [
        ReasonCount(reason=reason, sessions=n)
        for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    ]


def _stood_in(row: Any) -> bool:
    """Held, by someone other than the scheduled leader (``held_by`` names who received)."""
    held_by = (row["held_by"] or "").strip()
    return (
        row["state"] == "held"
        and bool(held_by)
        and held_by
        not in (
            row["leader_name"],
            row["leader_id"],
        )
    )
