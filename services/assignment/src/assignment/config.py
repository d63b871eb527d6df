"""assignment settings: the shared ones plus its own (environment prefix PETITIONS_)."""

from __future__ import annotations

from petitions.settings import CommonSettings

DEFAULT_PORT = 8002


class Settings(CommonSettings):
    """Settings of the assignment service."""

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
