"""reporting settings: the shared ones plus its own (environment prefix PETITIONS_)."""

from __future__ import annotations

from petitions.settings import CommonSettings

DEFAULT_PORT = 8003


class Settings(CommonSettings):
    """Settings of the reporting service."""

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
