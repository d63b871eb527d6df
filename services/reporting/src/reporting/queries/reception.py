"""Leader reception statistics (领导接访): sessions held and missed (and why, per bureau and per
leader: the days each leader missed and the reasons), the visits registered at them and the
instructions recorded. The seed counts exactly these: the chief's reception days, those missed
for meetings or illness."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from petitions.bureaus import BureauConfig, WorkCalendar

from reporting.queries.common import Db, Viewer, bureau_ref
from reporting.queries.instructions import overdue_instructions
from reporting.queries.models import (
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
    overdue: tuple[WorkCalendar, Viewer, date] | None = None,
) -> ReceptionStats:
    """Sessions of ``bureau`` (the city: of every bureau) in the period; with ``overdue``
    (calendar, reader, day), also the instructions overdue on that day the reader may see."""
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
    late = None
    if overdue is not None:
        calendar, viewer, as_of = overdue
        late = await overdue_instructions(db, config, calendar, viewer, bureau, as_of)
    return ReceptionStats(
        overdue_instructions=late,
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
