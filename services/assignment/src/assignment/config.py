"""assignment settings: the shared ones, identity, the bureau configuration, and its own
(environment prefix PETITIONS_)."""

from __future__ import annotations

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field

DEFAULT_PORT = 8002


class Settings(CommonSettings, IdentitySettings, BureauSettings):
    """Settings of the assignment service."""

    sweep_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the deadline sweep runs (reminders, supervision).",
    )
    run_sweep: bool = Field(default=True, description="Run the deadline sweep in this process.")
    run_consumer: bool = Field(
        default=True, description="Take registered cases up from NATS in this process."
    )

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
