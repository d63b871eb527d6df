"""Where a service finds the bureau configuration (environment prefix ``PETITIONS_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from petitions.bureaus.calendar import WorkCalendar, load_work_calendar
from petitions.bureaus.config import BureauConfig
from petitions.bureaus.validation import load_config


class BureauConfigMissingError(RuntimeError):
    """The service cannot start without the bureau configuration; the message says what to set."""


class BureauSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore", frozen=True)

    bureau_config: Path | None = Field(
        default=None,
        description="Bureau configuration TOML (bureaus, categories, routing, holidays), e.g. "
        "deploy/config/bureaus.demo.toml",
    )

    def load_bureaus(self) -> tuple[BureauConfig, WorkCalendar]:
        """The validated configuration and its work calendar, or a clear startup error."""
        if self.bureau_config is None:
            raise BureauConfigMissingError(
                "缺少单位配置 set PETITIONS_BUREAU_CONFIG to the bureau configuration file "
                "(e.g. deploy/config/bureaus.demo.toml)"
            )
        config = load_config(self.bureau_config)
        return config, load_work_calendar(config)
