"""Reporting's events: reads of a case's audit timeline (审计查阅记录), lists of cases taken
away (the ledger read or any report exported), and the accompany roster published for a month
(陪同接访名单).

Reads go on the stream ``audit-<case id>`` in the event store, not into a table: they are then
hash-chained like the case itself, so nobody can quietly drop the record of having looked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from petitions.messages.base import Event


class TimelineRead(Event, type="reporting.TimelineRead"):
    """Someone read a case's audit timeline (or its state as of a moment). Who read is also the
    event's actor; the reporting service appends it before it answers."""

    case_id: UUID
    reader: str
    role: str  # the reader's role (petitions.identity.Role), or "cli" for the operator command
    purpose: str  # why, in the reader's words ("" when not given)
    as_of: datetime | None  # the moment asked about; None: the case as it is now
    verified: bool | None  # the hash-chain result shown with it; None: not asked to verify
    by: Literal["recorded", "occurred"] = "recorded"  # which clock as_of was compared with
    view: Literal["timeline", "state"] = "timeline"
    via: Literal["api", "cli"] = "api"
    # The reader's bureau as their token named it (None: the operator command, or a read
    # recorded before the bureau was). Optional, so older reads still decode as they are.
    reader_bureau: str | None = None


class ReportExported(Event, type="reporting.ReportExported"):
    """Someone read a page of the ledger or downloaded a report as a file. Both hand over case
    numbers with masked petitioners and handling details, so who took which list away is
    recorded like any other read of personal data (who, role, bureau, what, when), before the
    answer. Appended to ``exports-<reader's bureau>-<YYYY-MM>`` (the Asia/Shanghai month)."""

    report: str  # ledger, weekly, monthly, practices
    format: Literal["json", "xlsx", "csv"]
    reader: str
    role: str
    reader_bureau: str
    parameters: dict[str, str]  # the query as asked: codes, dates, filters (never personal data)
    rows: int  # the rows handed over, all sheets together


class RosterCount(BaseModel):
    """One sub-bureau on a published accompany roster, with the counts it was ranked by."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rank: int
    sub_bureau: str
    head: str  # the head named in the configuration when the roster was published
    justified_to_city: int
    submissions_to_city: int


class AccompanyRosterPublished(Event, type="reporting.AccompanyRosterPublished"):
    """陪同接访名单 published for a month, once, at its start: the heads of up to three
    sub-bureaus who accompany the chief at the city bureau's Wednesday receptions, ranked on
    the month before as it stood then. Stream ``roster-<bureau>-<YYYY-MM>``; later outcomes
    change what the roster would be now, never what was published."""

    bureau: str  # the city bureau whose chief they accompany
    applies_to: str  # YYYY-MM, the month of the receptions
    counted_month: str  # YYYY-MM, the month whose petitions were counted
    published_on: date  # Asia/Shanghai
    roster: tuple[RosterCount, ...]
    candidates: tuple[RosterCount, ...]  # every sub-bureau above zero, ranked
