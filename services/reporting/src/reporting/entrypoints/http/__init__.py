"""Reporting's HTTP API: figures, roster, zero-petition sub-bureaus, reception statistics, the
ledger, the weekly bulletin and the monthly analysis, as JSON, XLSX, CSV and SVG charts; one
router per report (this package's modules), composed under /api/v1/reports.

Who sees what: the read roles below; a sub-bureau's staff see only their own bureau, the city
bureau's see every bureau; handlers only their own bureau, even at the city bureau. Case lists
never show an accusation to the unit or officer it accuses (信访工作条例 Art. 30).

Errors answer ``{"error": code, "message": "中文 / English"}``; identity errors (401, 403) go
through the app's ``petitions.identity.install_auth_errors``.
"""

from collections.abc import Callable, Mapping
from datetime import date

import asyncpg
from fastapi import APIRouter
from petitions.bureaus import BureauConfig, WorkCalendar
from petitions.clock import Clock, utc_now
from petitions.eventstore import EventStore
from petitions.identity import Authenticator

from reporting.entrypoints.http import (
    analysis,
    bulletin,
    figures,
    ledger,
    practices,
    reception,
    roster,
)
from reporting.entrypoints.http.common import ERRORS, READ_ROLES, Context, ReportError, ReportRoute


def router(
    read_pool: Callable[[], asyncpg.Pool],
    config: BureauConfig,
    calendar: WorkCalendar,
    auth: Authenticator,
    *,
    clock: Clock = utc_now,
    store: Callable[[], EventStore] | None = None,
    practices_since: Mapping[str, date] | None = None,
) -> APIRouter:
    """``store``: the event store, where published rosters live (without it, none is shown and
    none can be published); ``practices_since``: per bureau, the day it began the seed's
    practices (the default start of the practices report)."""
    ctx = Context(read_pool, config, calendar, auth, clock, store, dict(practices_since or {}))
    api = APIRouter(prefix="/api/v1/reports", route_class=ReportRoute, responses=ERRORS)
    # In this order: the OpenAPI document lists the reports as before the split.
    for report in (figures, roster, reception, ledger, bulletin, analysis, practices):
        api.include_router(report.router(ctx))
    return api


__all__ = ["READ_ROLES", "ReportError", "router"]
