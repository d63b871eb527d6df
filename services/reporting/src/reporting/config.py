"""reporting settings: the shared ones, identity, the bureau configuration, and where the read
models live (environment prefix PETITIONS_)."""

from __future__ import annotations

import os
from datetime import date

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8003


class RebuildSettings(BaseSettings):
    """How a rebuild of the read models runs (the service's and the operator command's)."""

    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore", frozen=True)

    rebuild_workers: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes a rebuild folds a large log in, split by case (each takes a core and "
            "its share of the memory a rebuild uses); 0: one per CPU core, at most 4; 1: the "
            "rebuilding process alone."
        ),
    )

    @property
    def rebuild_parts(self) -> int:
        # The cores this process may run on (a container's limit), not the machine's.
        return self.rebuild_workers or min(4, len(os.sched_getaffinity(0)))


class Settings(CommonSettings, IdentitySettings, BureauSettings, RebuildSettings):
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
