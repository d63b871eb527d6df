"""Case lists inside the bulletin and the analysis: short rows, always filtered for Art. 30."""

from __future__ import annotations

from dataclasses import dataclass
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
from reporting.queries.models import CaseBrief, CaseList
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


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Page:
    """Which page of a case list: ``number`` from 1, ``size`` rows each."""

    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


FIRST_PAGE = Page()


async def briefs(
    db: Db,
    config: BureauConfig,
    where: SqlFilter,
    order: str,
    page: Page | None,
    *,
    total: int | None = None,
) -> CaseList:
    """One page of the cases ``where`` selects, in ``order`` (which must end on a unique column
    so pages neither repeat nor skip a case); ``page`` None gives every row (the exports).
    ``total``, when the caller has counted already, saves the count."""
    sql = f"SELECT {BRIEF_COLUMNS} FROM cases c WHERE {where.sql()} ORDER BY {order}"
    if page is None:
        rows = await db.fetch(sql, *where.args)
        return CaseList(
            total=len(rows),
            page=1,
            page_size=len(rows),
            rows=[brief(config, row) for row in rows],
        )
    if total is None:
        total = await db.fetchval(f"SELECT count(*) FROM cases c WHERE {where.sql()}", *where.args)
    rows = await db.fetch(f"{sql} LIMIT {int(page.size)} OFFSET {int(page.offset)}", *where.args)
    return CaseList(
        total=total,
        page=page.number,
        page_size=page.size,
        rows=[brief(config, row) for row in rows],
    )


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
