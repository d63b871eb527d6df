"""intake settings: the shared ones, identity, and the bureau configuration file."""

from __future__ import annotations

from pathlib import Path

from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field

DEFAULT_PORT = 8001


class Settings(CommonSettings, IdentitySettings):
    """Settings of the intake service (environment prefix PETITIONS_)."""

    bureau_config: Path | None = Field(
        default=None,
        description="Bureau configuration TOML (bureaus, categories, holidays), e.g. "
        "deploy/config/bureaus.demo.toml",
    )

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
