"""Case lists inside the bulletin and the analysis: short rows, always filtered for Art. 30."""

from __future__ import annotations

from typing import Any

from petitions.bureaus import BureauConfig

from reporting.queries.common import (
    DEADLINE_ZH,
    OUTCOME_ZH,
    STATE_ZH,
    Db,
    SqlFilter,
    Viewer,
    attributed_to,
    bureau_ref,
    category_name,
    label,
    running_deadline,
    running_due,
    unit_name,
)
from reporting.queries.models import CaseBrief
from reporting.queries.periods import local

BRIEF_COLUMNS = f"""
    c.case_id, c.case_number, c.sub_bureau, c.category, c.state, c.first_received_at,
    c.responsible_unit, c.responsible_officer, c.latest_progress_week, c.submissions,
    c.repeat_count, c.escalation, c.congress, c.congress_report_on, c.replied_on, c.outcome,
    {running_deadline()} AS running_deadline,
    {running_due()} AS running_due
"""


def scoped(config: BureauConfig, viewer: Viewer, bureau: str) -> SqlFilter:
    """Cases attributed to ``bureau`` (the city: all) that ``viewer`` may see (the one scope
    rule: a city handler's lists hold only the city bureau's own cases)."""
    where = SqlFilter()
    where.visible_to(config, viewer)
    scope = attributed_to(config, bureau)
    if scope is not None:
        where.add(f"c.sub_bureau = {where.param(scope)}")
    return where


async def briefs(db: Db, config: BureauConfig, where: SqlFilter, order: str) -> list[CaseBrief]:
    rows = await db.fetch(
        f"SELECT {BRIEF_COLUMNS} FROM cases c WHERE {where.sql()} ORDER BY {order}", *where.args
    )
    return [brief(config, row) for row in rows]


def brief(config: BureauConfig, row: Any, working_days: int | None = None) -> CaseBrief:
    return CaseBrief(
        case_id=row["case_id"],
        case_number=row["case_number"],
        sub_bureau=bureau_ref(config, row["sub_bureau"]),
        category_name=category_name(config, row["category"]),
        state=row["state"],
        state_name=label(STATE_ZH, row["state"]),
        first_received_at=local(row["first_received_at"]),
        responsible_unit=row["responsible_unit"],
        responsible_unit_name=unit_name(config, row["responsible_unit"]),
        responsible_officer=row["responsible_officer"],
        deadline=row["running_deadline"],
        deadline_name=label(DEADLINE_ZH, row["running_deadline"]),
        due=row["running_due"],
        working_days=working_days,
        latest_progress_week=row["latest_progress_week"],
        submissions=row["submissions"],
        repeat_count=row["repeat_count"],
        escalation=row["escalation"],
        congress=row["congress"],
        congress_report_on=row["congress_report_on"],
        replied_on=row["replied_on"],
        outcome_name=label(OUTCOME_ZH, row["outcome"]),
    )
