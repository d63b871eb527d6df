"""What every query shares: the database handle, who is looking, names for codes, SQL filters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from petitions.bureaus import BureauConfig, UnknownCodeError
from petitions.identity import Principal, Role
from petitions.messages.case_state import CaseState
from petitions.scope import Reach, reach

from reporting.queries.models import BureauRef, Rate


class Db(Protocol):
    """An asyncpg pool or connection whose search_path starts with the reporting schema.

    Several queries of one report should share one connection in a repeatable-read
    transaction, so the projections advancing meanwhile cannot make the parts disagree."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def fetchval(self, query: str, *args: Any) -> Any: ...


async def run_on(dbs: Sequence[Db], jobs: Sequence[Callable[[Db], Awaitable[Any]]]) -> list[Any]:
    """Each job's result, in order, the jobs run on ``dbs`` (connections sharing one snapshot:
    ``Context.snapshots``), each connection taking the next job when its last is done. A
    connection runs one statement at a time; a report's independent queries on two or three of
    them use both of the machine's cores (issue 17). Put the longest jobs first."""
    results: list[Any] = [None] * len(jobs)
    pending = iter(enumerate(jobs))

    async def work(db: Db) -> None:
        for index, job in pending:
            results[index] = await job(db)

    if len(dbs) == 1:
        await work(dbs[0])
    else:
        try:
            async with asyncio.TaskGroup() as group:
                for db in dbs:
                    group.create_task(work(db))
        except ExceptionGroup as failed:
            # The first failure as itself, as one connection would have raised it: callers
            # answer by its type (a period out of range, an unknown code).
            raise failed.exceptions[0] from None
    return results


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a case list is for. Lists show only what the one scope rule (``petitions.scope``)
    lets the viewer see: their bureau's reach (a handler's is their own bureau's cases, even at
    the city bureau), never an accusation against them, their bureau or their department
    (Art. 30). Figures count everything and do not need a viewer: a count reveals no case."""

    bureau: str
    user: str
    role: Role = Role.PETITION_OFFICE
    department: str | None = None

    def reach(self, config: BureauConfig) -> Reach:
        principal = Principal(
            user=self.user, role=self.role, bureau=self.bureau, department=self.department
        )
        return reach(principal, config)


class SqlFilter:
    """AND-ed clauses with numbered parameters, built from constants and values only."""

    def __init__(self, *args: Any) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = list(args)

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) or "TRUE"

    def visible_to(self, config: BureauConfig, viewer: Viewer, alias: str = "c") -> None:
        # Matched on any case naming the viewer, not only on category_kind = 'accusation': only
        # accusations name accused parties, and a mislabelled one must not leak either.
        self.add(viewer.reach(config).sql(self.param, alias=alias, unit="responsible_unit"))


# Whether submission ``s``'s case is justified (domain.md: the latest assessment), probed per
# submission on the partial index cases_justified. A join with the cases would hash the whole
# table: a decade's million cases for a month's submissions (issue 17).
JUSTIFIED_CASE = "EXISTS (SELECT 1 FROM cases j WHERE j.case_id = s.case_id AND j.justified)"


def is_city(config: BureauConfig, bureau: str) -> bool:
    return bureau == config.city.code


def attributed_to(config: BureauConfig, bureau: str) -> str | None:
    """The sub-bureau a figure is restricted to, or None for the city with everything below."""
    return None if is_city(config, bureau) else bureau


def bureau_ref(config: BureauConfig, code: str) -> BureauRef:
    return BureauRef(code=code, name=unit_name(config, code))


def unit_name(config: BureauConfig, code: str | None) -> str:
    """A unit's name; an unknown code (a unit since removed from the file) shows as itself."""
    if code is None:
        return ""
    try:
        return config.unit_name(code)
    except UnknownCodeError:
        return code


def category_name(config: BureauConfig, code: str) -> str:
    try:
        return " / ".join(c.name for c in config.category_path(code))
    except UnknownCodeError:
        return code


def rate(numerator: int, denominator: int) -> Rate:
    ratio = round(numerator / denominator, 4) if denominator else None
    return Rate(numerator=numerator, denominator=denominator, ratio=ratio)


CATEGORY_KIND_ZH = {
    "suggestion": "建议意见",
    "accusation": "检举控告",
    "complaint_demand": "申诉求决",
}

STATE_ZH = {state.value: state.zh for state in CaseState}

NOT_ACCEPTED_ZH = {
    "declined": "不予受理",
    "forwarded": "转送",
    "diverted": "导入法定程序",
    "objected": "交办异议",
}

OUTCOME_ZH = {"support": "支持", "explain": "解释说明", "not_supported": "不予支持"}

CHANNEL_ZH = {
    "visit": "来访",
    "letter": "来信",
    "phone": "来电",
    "online": "网上信访",
    "congress_referral": "人大交办",
    "higher_referral": "上级转办",
}

ESCALATION_ZH = {"province": "到省", "beijing": "进京"}

SATISFACTION_ZH = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
}

ASSESSMENT_ZH = {"justified": "有理", "not_justified": "无理", "undetermined": "待定"}


def label(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, code)


# A hearing in re-review stops its clock (hearing time is not counted, Art. 36): no deadline
# runs while it lasts, but the case is still open. A hearing in handling stops nothing (Art. 34):
# the handling deadline runs on through it. The partial index cases_open is on exactly this.
OPEN_SQL = "({c}.running_due IS NOT NULL OR {c}.state = 'hearing')"


def is_open(alias: str = "c") -> str:
    return OPEN_SQL.format(c=alias)


# The deadline a case is running against now: a stored column computed from the row by
# PostgreSQL (schema.sql says how), so open and overdue cases come from an index.
RUNNING_DEADLINE_SQL = """
    CASE
        WHEN {c}.terminated_on IS NOT NULL OR {c}.not_accepted IS NOT NULL THEN NULL
        WHEN {c}.state = 'hearing' AND {c}.state_before_hearing = 'under_re_review' THEN NULL
        WHEN {c}.state = 'under_re_review' THEN 're_review'
        WHEN {c}.state = 'under_review' THEN 'review'
        WHEN {c}.accepted_on IS NULL THEN 'acceptance'
        WHEN {c}.replied_on IS NULL THEN 'handling'
    END
"""

DEADLINE_ZH = {
    "acceptance": "受理告知",
    "handling": "办理答复",
    "review": "复查答复",
    "re_review": "复核答复",
    "congress_report": "人大书面报告",
}


def running_due(alias: str = "c") -> str:
    return f"{alias}.running_due"


def running_deadline(alias: str = "c") -> str:
    return RUNNING_DEADLINE_SQL.format(c=alias)
