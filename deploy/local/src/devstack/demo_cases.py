"""One case's planned story in the demo history (``Plan``: its submissions and workflow acts,
dated) and the calendar helpers the planner dates them with, in Asia/Shanghai."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "3301"
"""The demo city's bureau code."""


Act = tuple[datetime, str, dict[str, Any]]


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


@dataclass
class Plan:
    """One case's story: its submissions and the workflow acts, with when they happened."""

    received_at: datetime
    body: dict[str, Any]
    repeats: list[datetime] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)
    at_reception: bool = False
    """The first submission was received at the receiving bureau's leader reception that day
    (the session held then, if one was)."""
    case_id: str | None = None

    @property
    def sub_bureau(self) -> str:
        return str(self.body["sub_bureau"])

    @property
    def to_city(self) -> bool:
        return bool(self.body["receiving_bureau"] == CITY)

    def submissions(self) -> list[datetime]:
        return [self.received_at, *self.repeats]

    def outcome(self) -> str | None:
        return next((b["outcome"] for _, _, b in reversed(self.acts) if "outcome" in b), None)

    @property
    def justified(self) -> bool:
        """domain.md: the latest assessment, a handling outcome superseding intake's."""
        outcome = self.outcome()
        if outcome is not None:
            return outcome == "support"
        return bool(self.body.get("preliminary_assessment") == "justified")
