"""The bureau configuration's parts, one TOML section each: the city, sub-bureaus, departments,
leaders, categories, routing rules and read purposes, with their enums and the configuration's
errors (the whole, :class:`~petitions.bureaus.config.BureauConfig`, is built of them).

Codes are stable identifiers: events store them, so a code is never reused for something else
and never renamed; names may change freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

# ---------------------------------------------------------------------------------------------
# Errors


class ConfigError(Exception):
    """A configuration file (bureaus or holidays) is unusable; ``problems`` lists every fault."""

    def __init__(self, problems: Sequence[str], *, source: Path | str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = str(source) if source is not None else None
        where = f" ({self.source})" if self.source else ""
        n = len(self.problems)
        head = f"配置有 {n} 处错误 configuration has {n} problem(s){where}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class UnknownCodeError(LookupError):
    """A look-up by a code the configuration does not know (a bureau, category, ...)."""

    def __init__(self, what_zh: str, what_en: str, code: str) -> None:
        super().__init__(f"未知的{what_zh} unknown {what_en} {code!r}")
        self.code = code


# ---------------------------------------------------------------------------------------------
# Value types


class Weekday(IntEnum):
    """ISO weekday numbers, as ``date.isoweekday()`` returns them."""

    MON = 1
    TUE = 2
    WED = 3
    THU = 4
    FRI = 5
    SAT = 6
    SUN = 7

    @property
    def zh(self) -> str:
        return _WEEKDAY_ZH[self - 1]

    @classmethod
    def of(cls, day: date) -> Weekday:
        return cls(day.isoweekday())


_WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAY_NAMES: dict[str, int] = {}
for _number, _zh in enumerate(_WEEKDAY_ZH, start=1):
    _WEEKDAY_NAMES[_zh] = _number
    _WEEKDAY_NAMES[_zh.replace("周", "星期")] = _number
for _number, _en in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), start=1):
    _WEEKDAY_NAMES[_en] = _number
_WEEKDAY_NAMES["星期天"] = 7


def _duty_weekday(value: Any) -> Weekday:
    # Operators write "wed", "Wednesday", "周三", "星期三" or 3 in the file; all mean one day.
    number = value
    if isinstance(value, str):
        key = value.strip().lower()
        number = _WEEKDAY_NAMES.get(key[:3] if key.isascii() else key)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 7:
        raise ValueError("接访日写法不认识 unrecognised weekday: write mon-fri, 周一-周五 or 1-5")
    if number > Weekday.FRI:
        raise ValueError("接访日须为周一至周五 the duty day must be Monday to Friday")
    return Weekday(number)


DutyWeekday = Annotated[Weekday, BeforeValidator(_duty_weekday)]
"""Reception is Monday to Friday: a duty day at the weekend is a typo, not a roster."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
BureauCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,12}$")]
"""Administrative-division style digits (GB/T 2260): the city's, then longer ones below it."""

SubBureauKind = Literal["区", "县", "县级市"]


class DepartmentRole(StrEnum):
    """What a department does in petition work; the first four have fixed duties in the rules."""

    PETITION_OFFICE = "petition_office"  # 信访科: registers, assigns, urges, supervises
    LEGAL = "legal"  # 法制: attends receptions, reviews legal basis of decisions
    DISCIPLINE = "discipline"  # 纪检: accusations against officers, accountability
    INSPECTION = "inspection"  # 督察: police inspection, conduct complaints
    OTHER = "other"  # a line department that handles cases (治安, 刑侦, 交警, ...)


REQUIRED_ROLES: dict[DepartmentRole, str] = {
    DepartmentRole.PETITION_OFFICE: "信访科",
    DepartmentRole.LEGAL: "法制部门",
    DepartmentRole.DISCIPLINE: "纪检部门",
    DepartmentRole.INSPECTION: "督察部门",
}


class CategoryKind(StrEnum):
    """The three statutory classes of petition (信访工作条例 Arts. 29-31)."""

    SUGGESTION = "suggestion"
    ACCUSATION = "accusation"
    COMPLAINT_DEMAND = "complaint_demand"

    @property
    def zh(self) -> str:
        return _CATEGORY_ZH[self]


_CATEGORY_ZH: dict[CategoryKind, str] = {
    CategoryKind.SUGGESTION: "建议意见",
    CategoryKind.ACCUSATION: "检举控告",
    CategoryKind.COMPLAINT_DEMAND: "申诉求决",
}


# ---------------------------------------------------------------------------------------------
# Models


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class City(FrozenModel):
    """The city bureau (市局)."""

    code: BureauCode
    name: Text
    name_en: Text


class Leader(FrozenModel):
    """A bureau leader (局领导), of the city bureau or of a sub-bureau (then listed under it),
    and the weekday they receive petitioners."""

    id: Code
    name: Text
    title: Text
    is_chief: bool = False
    duty_weekday: DutyWeekday | None = Field(
        default=None, description="Reception day; none for a leader not on the weekly roster."
    )


class SubBureau(FrozenModel):
    """A district/county sub-bureau (分县局) and its head (局长)."""

    code: BureauCode
    name: Text
    name_en: Text = Field(description="English or pinyin name.")
    kind: SubBureauKind
    head: Text = Field(description="The head's (局长) name: a public official, not personal data.")
    leaders: tuple[Leader, ...] = Field(
        default=(),
        description="The sub-bureau's leaders (局领导), its head (is_chief) among them: they own "
        "(包案) the sub-bureau's cases. Leader ids are unique over the whole configuration.",
    )


class Department(FrozenModel):
    """A department of the city bureau."""

    code: Code
    name: Text
    name_en: Text
    role: DepartmentRole = DepartmentRole.OTHER


class Category(FrozenModel):
    """A petition category; sub-categories nest to any depth."""

    code: Code
    name: Text
    name_en: Text
    children: tuple[Category, ...] = ()


class TopCategory(Category):
    """One of the three statutory classes, at the top of the tree."""

    kind: CategoryKind


class CalendarSettings(FrozenModel):
    holidays_dir: Path = Field(
        description="Folder of the per-year holiday files (2025.toml, ...), relative to the file."
    )


class RoutingRule(FrozenModel):
    """交办规则: cases of a category (and all below it), optionally concerning one sub-bureau,
    go to this unit (a bureau code or a city department code) instead of the first receiver's."""

    name: Text
    category: Code
    unit: Code
    sub_bureau: BureauCode | None = None


class ReadPurpose(FrozenModel):
    """Why someone reads a case's personal data in the clear (查阅目的): the reader picks one,
    and it is recorded with the read."""

    code: Code
    name: Text
    name_en: Text


DEFAULT_READ_PURPOSES: tuple[ReadPurpose, ...] = (
    ReadPurpose(code="handling", name="办理", name_en="Handling the case"),
    ReadPurpose(code="reply", name="答复", name_en="Drafting or delivering the reply"),
    ReadPurpose(code="review", name="复查复核", name_en="Review or re-review"),
    ReadPurpose(code="supervision", name="督办", name_en="Supervision"),
    ReadPurpose(code="audit", name="审计", name_en="Audit"),
)


Category.model_rebuild()
TopCategory.model_rebuild()


def walk_categories(
    tops: Iterable[Category],
) -> Iterable[tuple[Category, tuple[Category, ...]]]:
    stack: list[tuple[Category, tuple[Category, ...]]] = [(c, (c,)) for c in reversed(list(tops))]
    while stack:
        category, path = stack.pop()
        yield category, path
        stack.extend((child, (*path, child)) for child in reversed(category.children))
