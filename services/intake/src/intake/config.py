"""intake settings: the shared ones, identity, and the bureau configuration file."""

from __future__ import annotations

from pathlib import Path

from petitions.bureaus import BureauSettings
from petitions.identity import IdentitySettings
from petitions.settings import CommonSettings
from pydantic import Field

DEFAULT_PORT = 8001


class Settings(CommonSettings, IdentitySettings, BureauSettings):
    """Settings of the intake service (environment prefix PETITIONS_)."""

    notice_templates: Path | None = None
    """The folder of the written notices' DOCX templates (PETITIONS_NOTICE_TEMPLATES); by
    default ``templates/`` beside the bureau configuration file."""

    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=1024**3)
    """The largest attachment taken, in bytes (PETITIONS_ATTACHMENT_MAX_BYTES; 20 MiB: a
    scanned letter of many pages or an hour of phone recording)."""

    receipt_lookup: str | None = None
    """How a petitioner looks their case up, printed on the receipt after "凭本回执的案号和查询码，"
    (PETITIONS_RECEIPT_LOOKUP), e.g. "登录 https://xf.example.gov.cn/status 输入查询码查询"."""

    def templates_dir(self) -> Path:
        if self.notice_templates is not None:
            return self.notice_templates
        if self.bureau_config is None:
            return Path("deploy/config/templates")
        return self.bureau_config.parent / "templates"

    @property
    def port(self) -> int:
        return self.http_port or DEFAULT_PORT
