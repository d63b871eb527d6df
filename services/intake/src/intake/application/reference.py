"""Reference data (基础数据) from the configuration: what a form or another system needs to
offer choices and show names beside codes, in Chinese and English.

Each document is rendered once (the configuration is read at start-up and never changes while
the process runs) with an ETag, the hash of its bytes, so that clients revalidate cheaply and a
changed configuration shows as a changed tag.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

from petitions.bureaus import (
    BureauConfig,
    Category,
    ConfigError,
    TopCategory,
    WorkCalendar,
    load_holiday_year,
)
from petitions.identity import Role
from petitions.messages.assignment import Outcome
from petitions.messages.intake import Channel

from intake.domain.registration import Refused

CHANNELS: Final[dict[Channel, tuple[str, str]]] = {
    Channel.VISIT: ("来访", "Visit"),
    Channel.LETTER: ("来信", "Letter"),
    Channel.PHONE: ("来电", "Phone call"),
    Channel.ONLINE: ("网上信访", "Online"),
    Channel.CONGRESS_REFERRAL: ("人大交办", "Referred by the People's Congress"),
    Channel.HIGHER_REFERRAL: ("上级转办", "Referred by a higher authority"),
}
OUTCOMES_EN: Final[dict[Outcome, str]] = {
    Outcome.SUPPORT: "Supported",
    Outcome.EXPLAIN: "Explained",
    Outcome.NOT_SUPPORTED: "Not supported",
}
ROLES_EN: Final[dict[Role, str]] = {
    Role.REGISTRAR: "Registrar",
    Role.HANDLER: "Handler",
    Role.SUB_BUREAU_HEAD: "Sub-bureau head",
    Role.LEADER: "Bureau leader",
    Role.PETITION_OFFICE: "Petition office",
    Role.AUDITOR: "Auditor (discipline, inspection)",
    Role.ADMIN: "Administrator",
    Role.IMPORTER: "Data import",
}
ReferenceKind = Literal[
    "bureaus", "categories", "channels", "outcomes", "roles", "leaders", "purposes"
]
KINDS: Final[tuple[str, ...]] = get_args(ReferenceKind)


@dataclass(frozen=True)
class Document:
    body: bytes
    etag: str

    @classmethod
    def of(cls, content: Any) -> Document:
        body = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str).encode()
        return cls(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')

    def matches(self, if_none_match: str | None) -> bool:
        """Whether the client's ``If-None-Match`` names this version (weak tags compare equal:
        the bytes are the same whichever way a proxy marked them)."""
        if not if_none_match:
            return False
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or self.etag in tags


class Reference:
    """The reference documents of one configuration (one per process)."""

    def __init__(self, config: BureauConfig, calendar: WorkCalendar) -> None:
        self._config = config
        self._calendar = calendar
        self._documents = {kind: Document.of(self._build(kind)) for kind in KINDS}
        self._holidays: dict[int, Document] = {}

    def document(self, kind: str) -> Document:
        return self._documents[kind]

    def _build(self, kind: str) -> dict[str, Any]:
        config = self._config
        match kind:
            case "bureaus":
                return {
                    "city": config.city.model_dump(),
                    # A sub-bureau's leaders are in the leaders document, with the bureau.
                    "sub_bureaus": [s.model_dump(exclude={"leaders"}) for s in config.sub_bureaus],
                    "departments": [
                        d.model_dump(mode="json") | {"bureau": config.city.code}
                        for d in config.departments
                    ],
                }
            case "categories":
                return {"categories": [_category(c) for c in config.categories]}
            case "channels":
                return {
                    "channels": [
                        {"code": str(c), "name": zh, "name_en": en, "referral": c.is_referral}
                        for c, (zh, en) in CHANNELS.items()
                    ]
                }
            case "outcomes":
                return {
                    "outcomes": [
                        {
                            "code": str(o),
                            "name": o.zh,
                            "name_en": OUTCOMES_EN[o],
                            "justified": o.justified,
                        }
                        for o in Outcome
                    ]
                }
            case "roles":
                roles = [{"code": str(r), "name": r.label, "name_en": ROLES_EN[r]} for r in Role]
                return {"roles": roles}
            case "leaders":
                return {
                    "leaders": [
                        leader.model_dump(mode="json", exclude={"duty_weekday"})
                        | {
                            "duty_weekday": (
                                None
                                if leader.duty_weekday is None
                                else {
                                    "code": leader.duty_weekday.name.lower(),
                                    "name": leader.duty_weekday.zh,
                                }
                            ),
                            "bureau": bureau,
                        }
                        for bureau in config.bureau_codes
                        for leader in config.leaders_of(bureau)
                    ]
                }
            case "purposes":
                return {"purposes": [p.model_dump() for p in config.read_purposes]}
        raise KeyError(kind)

    def holidays(self, year: int) -> Document:
        """The State Council's arrangement for ``year`` as configured (404 for a year without
        its file: never a guess)."""
        cached = self._holidays.get(year)
        if cached is not None:
            return cached
        if year not in self._calendar.years:
            raise Refused(
                "year_not_configured",
                f"{year} 年的节假日安排未配置（已配置：{_years(self._calendar)}）/ no holiday "
                f"arrangement is configured for {year} (configured: {_years(self._calendar)})",
                404,
            )
        path = Path(self._config.calendar.holidays_dir) / f"{year}.toml"
        try:
            entry = load_holiday_year(path)
        except ConfigError as exc:  # the file went away or broke since start-up
            raise Refused("year_not_configured", str(exc), 404) from None
        document = Document.of(
            {
                "year": entry.year,
                "source": entry.source,
                "holidays": [h.model_dump(mode="json") for h in entry.holidays],
                "working_days": [w.model_dump(mode="json") for w in entry.working_days],
            }
        )
        self._holidays[year] = document
        return document


def _category(category: Category) -> dict[str, Any]:
    out: dict[str, Any] = category.model_dump(include={"code", "name", "name_en"})
    if isinstance(category, TopCategory):
        out |= {"kind": str(category.kind), "kind_name": category.kind.zh}
    out["children"] = [_category(child) for child in category.children]
    return out


def _years(calendar: WorkCalendar) -> str:
    return ", ".join(str(y) for y in calendar.years)
