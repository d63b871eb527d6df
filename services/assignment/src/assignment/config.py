"""assignment settings: the shared ones, identity, the bureau configuration, and its own
(environment prefix PETITIONS_)."""

from __future__ import annotations

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field, SecretStr

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
    event_id_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret (base64, at least 16 bytes) the ids of the events assignment raises by "
            "itself (take-up, deadline notices) are derived with, so that no one can publish "
            "under them first. The same in every replica. Unset: a random key kept in the "
            "database (assignment.event_id_key), made by the first process to start."
        ),
    )

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
