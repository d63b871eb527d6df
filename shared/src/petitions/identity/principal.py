"""Who is calling: the roles of the petition system, the principal a token names, and bureau
scope (which bureau's cases a caller may see or change)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from petitions.identity.errors import ForbiddenError


class Role(StrEnum):
    REGISTRAR = "registrar"
    HANDLER = "handler"
    SUB_BUREAU_HEAD = "sub_bureau_head"
    LEADER = "leader"
    PETITION_OFFICE = "petition_office"
    AUDITOR = "auditor"
    ADMIN = "admin"
    IMPORTER = "importer"

    @property
    def label(self) -> str:
        """The role's Chinese name, for messages."""
        return _LABELS[self]


_LABELS = {
    Role.REGISTRAR: "登记员",
    Role.HANDLER: "承办人",
    Role.SUB_BUREAU_HEAD: "分县局局长",
    Role.LEADER: "局领导",
    Role.PETITION_OFFICE: "信访科",
    Role.AUDITOR: "审计/纪检督察",
    Role.ADMIN: "管理员",
    Role.IMPORTER: "数据导入",
}

# Letters and digits only: an empty or odd code must never reach the prefix test below, where
# "" would cover every bureau.
_BUREAU_CODE = re.compile(r"[0-9A-Za-z]{1,32}")

Covers = Callable[[str, str], bool]
"""``covers(a, b)``: may a caller of bureau ``a`` act on bureau ``b``'s cases?"""


# As the bureau configuration spells department codes.
_DEPARTMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


def is_department_code(value: object) -> bool:
    return isinstance(value, str) and _DEPARTMENT_CODE.fullmatch(value) is not None


def is_bureau_code(value: object) -> bool:
    return isinstance(value, str) and _BUREAU_CODE.fullmatch(value) is not None


def covers(bureau: str, other: str) -> bool:
    """The default scope: a bureau covers itself and every bureau whose code extends its own
    ("3301", the city bureau, covers "330102"; "330102" does not cover "330103")."""
    return is_bureau_code(bureau) and other.startswith(bureau)


Scope = Covers | Mapping[str, Collection[str]]
"""How bureaus nest: a :data:`Covers` callable, or a mapping from a bureau to the bureaus it
covers besides itself (for codes that do not nest by prefix)."""


def in_scope(bureau: str, other: str, scope: Scope = covers) -> bool:
    """Does ``bureau`` cover ``other`` under ``scope``?"""
    if isinstance(scope, Mapping):
        return bureau == other or other in scope.get(bureau, ())
    return scope(bureau, other)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, as its verified token names them."""

    user: str
    role: Role
    bureau: str
    name: str | None = None
    token_id: str | None = None
    department: str | None = None
    """The city department (部门) the user works in, where the token names one: an accusation
    against that department is hidden from them (Art. 30)."""

    def __post_init__(self) -> None:
        if not self.user or not is_bureau_code(self.bureau):
            raise ValueError(f"principal needs a user and a bureau code, got {self!r}")
        if self.department is not None and not is_department_code(self.department):
            raise ValueError(f"not a department code: {self.department!r:.40}")

    @property
    def may_backdate(self) -> bool:
        """Whether commands may carry an occurred time in the past (history imports only)."""
        return self.role is Role.IMPORTER


def ensure_scope(principal: Principal, bureau: str, scope: Scope = covers) -> None:
    """Raise :class:`ForbiddenError` unless ``principal``'s bureau covers ``bureau``."""
    if not in_scope(principal.bureau, bureau, scope):
        raise ForbiddenError(
            "bureau_out_of_scope",
            f"单位 {bureau:.32} 不在您的令牌所属单位 {principal.bureau} 的管辖范围内，"
            "请由该单位或其上级单位的人员办理 / "
            f"Bureau {bureau:.32} is outside the scope of your token's bureau {principal.bureau}; "
            "ask someone of that bureau or of a bureau above it",
        )
