"""intake settings: the shared ones, identity, and the bureau configuration file."""

from __future__ import annotations

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings

DEFAULT_PORT = 8001


class Settings(CommonSettings, IdentitySettings, BureauSettings):
    """Settings of the intake service (environment prefix PETITIONS_)."""

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
