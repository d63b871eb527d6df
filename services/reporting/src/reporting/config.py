"""reporting settings: the shared ones, identity, the bureau configuration, and where the read
models live (environment prefix PETITIONS_)."""

from __future__ import annotations

from datetime import date

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field

DEFAULT_PORT = 8003


class Settings(CommonSettings, IdentitySettings, BureauSettings):
    """Settings of the reporting service."""

    reporting_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL of the read models (schema `reporting`); default: the event "
            "store's database_url. Reporting scales on its own database."
        ),
    )
    reporting_query_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL the reports and the audit API read from: a streaming replica (hot "
            "standby) of the read-model database, so queries scale apart from the projection "
            "that writes. Default: the read-model database itself. Its answers lag by the "
            "replica's replay delay."
        ),
    )
    reporting_consume: bool = Field(
        default=True,
        description=(
            "Keep the read models up to date from NATS in this process (durable consumer "
            "`reporting`, shared by every replica)."
        ),
    )

    reporting_ack_wait: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds before NATS redelivers an event a replica took but did not acknowledge "
            "(a replica that died); every replica must use the same value."
        ),
    )

    reporting_publish_roster: bool = Field(
        default=True,
        description=(
            "Publish each month's accompany roster on the month's first day (Asia/Shanghai) "
            "if nobody has (a supervised task in this process; replicas race harmlessly)."
        ),
    )
    roster_check_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between the roster task's checks (the first runs at start).",
    )

    practices_since: dict[str, date] = Field(
        default_factory=dict,
        description=(
            "Per bureau code, the day it began the seed's practices, as JSON, e.g. "
            '{"3301": "2025-01-01", "330102": "2025-03-01"}: the default start of the '
            "practices report (a sub-bureau without its own takes the city's)."
        ),
    )

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT

    @property
    def read_database_url(self) -> str:
        return self.reporting_database_url or self.database_url
