"""The bureau configuration: the city bureau, its sub-bureaus, departments, leaders, categories.

One TOML file holds it all (``deploy/config/bureaus.demo.toml`` is the demo). It is read once at
start-up by :func:`load_config`, which reports *every* problem in the file at once through
:class:`ConfigError`: an operator fixing a 24-bureau file should not meet its errors one by one.

Codes are stable identifiers: events store them, so a code is never reused for something else
and never renamed; names may change freely.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
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


_REQUIRED_ROLES: dict[DepartmentRole, str] = {
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


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class City(_Frozen):
    """The city bureau (市局)."""

    code: BureauCode
    name: Text
    name_en: Text


class Leader(_Frozen):
    """A bureau leader (局领导), of the city bureau or of a sub-bureau (then listed under it),
    and the weekday they receive petitioners."""

    id: Code
    name: Text
    title: Text
    is_chief: bool = False
    duty_weekday: DutyWeekday | None = Field(
        default=None, description="Reception day; none for a leader not on the weekly roster."
    )


class SubBureau(_Frozen):
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


class Department(_Frozen):
    """A department of the city bureau."""

    code: Code
    name: Text
    name_en: Text
    role: DepartmentRole = DepartmentRole.OTHER


class Category(_Frozen):
    """A petition category; sub-categories nest to any depth."""

    code: Code
    name: Text
    name_en: Text
    children: tuple[Category, ...] = ()


class TopCategory(Category):
    """One of the three statutory classes, at the top of the tree."""

    kind: CategoryKind


class CalendarSettings(_Frozen):
    holidays_dir: Path = Field(
        description="Folder of the per-year holiday files (2025.toml, ...), relative to the file."
    )


class RoutingRule(_Frozen):
    """交办规则: cases of a category (and all below it), optionally concerning one sub-bureau,
    go to this unit (a bureau code or a city department code) instead of the first receiver's."""

    name: Text
    category: Code
    unit: Code
    sub_bureau: BureauCode | None = None


class ReadPurpose(_Frozen):
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


class BureauConfig(_Frozen):
    """The whole validated configuration, with look-ups by code."""

    city: City
    sub_bureaus: tuple[SubBureau, ...] = Field(min_length=1)
    departments: tuple[Department, ...] = Field(min_length=1)
    leaders: tuple[Leader, ...] = Field(min_length=1)
    categories: tuple[TopCategory, ...] = Field(min_length=1)
    collective_threshold: int = Field(
        default=5, ge=2, description="Head count from which a petition is collective (集体访)."
    )
    calendar: CalendarSettings
    routing: tuple[RoutingRule, ...] = ()
    read_purposes: tuple[ReadPurpose, ...] = Field(default=DEFAULT_READ_PURPOSES, min_length=1)
    makeup_duty_weekday: DutyWeekday = Field(
        default=Weekday.MON,
        description="A make-up working day (调休上班, a weekend day the holiday notice makes a "
        "working day) is received on as this weekday's duty roster says.",
    )
    instruction_due_working_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="A leader's instruction (批示) names no date: answer within this many working "
        "days after the session's day (the bureau's calendar).",
    )

    _subs: dict[str, SubBureau] = PrivateAttr(default_factory=dict)
    _departments: dict[str, Department] = PrivateAttr(default_factory=dict)
    _leaders: dict[str, Leader] = PrivateAttr(default_factory=dict)
    _leader_bureaus: dict[str, str] = PrivateAttr(default_factory=dict)
    _categories: dict[str, tuple[Category, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._subs = {s.code: s for s in self.sub_bureaus}
        self._departments = {d.code: d for d in self.departments}
        self._leader_bureaus = {leader.id: self.city.code for leader in self.leaders} | {
            leader.id: sub.code for sub in self.sub_bureaus for leader in sub.leaders
        }
        self._leaders = {leader.id: leader for leader in self.leaders} | {
            leader.id: leader for sub in self.sub_bureaus for leader in sub.leaders
        }
        self._categories = {c.code: path for c, path in _walk_categories(self.categories)}

    @model_validator(mode="after")
    def _consistent(self) -> BureauConfig:
        problems = _cross_check(
            self.city,
            list(enumerate(self.sub_bureaus)),
            list(enumerate(self.departments)),
            list(enumerate(self.leaders)),
            list(enumerate(self.categories)),
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- bureaus ---------------------------------------------------------------------------

    @property
    def bureau_codes(self) -> tuple[str, ...]:
        """The city's code first, then every sub-bureau's in file order."""
        return (self.city.code, *self._subs)

    def is_bureau(self, code: str) -> bool:
        return code == self.city.code or code in self._subs

    def sub_bureau(self, code: str) -> SubBureau:
        try:
            return self._subs[code]
        except KeyError:
            raise UnknownCodeError("分县局代码", "sub-bureau code", code) from None

    def bureau_name(self, code: str) -> str:
        if code == self.city.code:
            return self.city.name
        return self.sub_bureau(code).name

    def covers(self, bureau: str, other: str) -> bool:
        """Whether ``bureau``'s figures and oversight include ``other``: itself, or the city
        over every sub-bureau. Unknown codes raise, so a typo never reads as "not covered"."""
        self._require_bureau(bureau)
        self._require_bureau(other)
        return bureau == other or bureau == self.city.code

    def covered_by(self, bureau: str) -> tuple[str, ...]:
        """Every bureau code ``bureau`` covers, itself first."""
        self._require_bureau(bureau)
        return self.bureau_codes if bureau == self.city.code else (bureau,)

    def _require_bureau(self, code: str) -> None:
        if not self.is_bureau(code):
            raise UnknownCodeError("单位代码", "bureau code", code)

    # -- departments and leaders -----------------------------------------------------------

    def department(self, code: str) -> Department:
        try:
            return self._departments[code]
        except KeyError:
            raise UnknownCodeError("部门代码", "department code", code) from None

    def department_for(self, role: DepartmentRole) -> Department:
        """The department holding one of the four fixed roles (validation made it unique)."""
        for department in self.departments:
            if department.role is role:
                return department
        raise UnknownCodeError("部门职能", "department role", role.value)

    def leader(self, leader_id: str) -> Leader:
        """A leader of the city bureau or of any sub-bureau, by id."""
        try:
            return self._leaders[leader_id]
        except KeyError:
            raise UnknownCodeError("局领导编号", "leader id", leader_id) from None

    def leader_bureau(self, leader_id: str) -> str:
        """The bureau a leader belongs to: the city's code, or their sub-bureau's."""
        try:
            return self._leader_bureaus[leader_id]
        except KeyError:
            raise UnknownCodeError("局领导编号", "leader id", leader_id) from None

    def leaders_of(self, bureau: str) -> tuple[Leader, ...]:
        """A bureau's own leaders: the city's (``leaders``) or a sub-bureau's."""
        if bureau == self.city.code:
            return self.leaders
        return self.sub_bureau(bureau).leaders

    @property
    def chief(self) -> Leader:
        return next(leader for leader in self.leaders if leader.is_chief)

    def leaders_on_duty(self, day: Weekday | date) -> tuple[Leader, ...]:
        """Who receives petitioners on that weekday (nobody at weekends). The calendar decides
        whether a given date is a working day at all, and a make-up working day follows
        ``makeup_duty_weekday``'s roster (intake.domain.duty)."""
        weekday = Weekday.of(day) if isinstance(day, date) else day
        return tuple(leader for leader in self.leaders if leader.duty_weekday == weekday)

    def is_department(self, code: str) -> bool:
        return code in self._departments

    def is_unit(self, code: str) -> bool:
        """A unit a case can be assigned to: a bureau or a city department."""
        return self.is_bureau(code) or self.is_department(code)

    def unit_name(self, code: str) -> str:
        if code in self._departments:
            return self._departments[code].name
        return self.bureau_name(code)

    def route(self, sub_bureau: str, category: str) -> RoutingRule | None:
        """The first routing rule matching the case, most specific first (a rule naming the
        sub-bureau wins over one that does not; a longer category code over a shorter one)."""
        matching = [
            rule
            for rule in self.routing
            if category.startswith(rule.category)
            and (rule.sub_bureau is None or rule.sub_bureau == sub_bureau)
        ]
        if not matching:
            return None
        return max(matching, key=lambda r: (r.sub_bureau is not None, len(r.category)))

    def read_purpose(self, code: str) -> ReadPurpose:
        for purpose in self.read_purposes:
            if purpose.code == code:
                return purpose
        raise UnknownCodeError("查阅目的", "read purpose", code)

    def is_collective(self, head_count: int) -> bool:
        return head_count >= self.collective_threshold

    # -- categories ------------------------------------------------------------------------

    def category(self, code: str) -> Category:
        return self.category_path(code)[-1]

    def category_path(self, code: str) -> tuple[Category, ...]:
        """From the top-level class down to the category itself."""
        try:
            return self._categories[code]
        except KeyError:
            raise UnknownCodeError("信访分类代码", "category code", code) from None

    def category_kind(self, code: str) -> CategoryKind:
        """The statutory class a category falls under: accusations (检举控告) carry the Art. 30
        rule that the accused never sees them, so callers must not guess this from a name."""
        top = self.category_path(code)[0]
        assert isinstance(top, TopCategory)
        return top.kind


Category.model_rebuild()
TopCategory.model_rebuild()


def _walk_categories(
    tops: Iterable[Category],
) -> Iterable[tuple[Category, tuple[Category, ...]]]:
    stack: list[tuple[Category, tuple[Category, ...]]] = [(c, (c,)) for c in reversed(list(tops))]
    while stack:
        category, path = stack.pop()
        yield category, path
        stack.extend((child, (*path, child)) for child in reversed(category.children))


# ---------------------------------------------------------------------------------------------
# Validation that reports everything


def load_config(path: Path | str) -> BureauConfig:
    """Read and validate the bureau configuration file; raise :class:`ConfigError` listing
    every problem. A relative ``calendar.holidays_dir`` is taken from the file's folder."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            [f"配置文件不存在 configuration file not found: {path}"], source=path
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML 语法错误 TOML syntax error: {exc}"], source=path) from None
    return validate_config(raw, base_dir=path.resolve().parent, source=path)


def validate_config(
    raw: Mapping[str, Any], *, base_dir: Path | None = None, source: Path | str | None = None
) -> BureauConfig:
    """Validate already-parsed configuration data; every problem found goes into one
    :class:`ConfigError`. Each section and each list entry is checked on its own, so one bad
    entry does not hide the faults of the others, and the cross-entry rules still run over the
    entries that are individually sound."""
    problems: list[str] = []
    known = set(BureauConfig.model_fields)
    for key in raw:
        if key not in known:
            problems.append(
                f"{key}: 不认识的配置项 unknown setting "
                f"(expected one of {', '.join(sorted(known))})"
            )

    city = _parse_one(City, raw.get("city"), "city", problems)
    incomplete: set[str] = set()
    subs = _parse_list(SubBureau, raw, "sub_bureaus", problems, incomplete)
    departments = _parse_list(Department, raw, "departments", problems, incomplete)
    leaders = _parse_list(Leader, raw, "leaders", problems, incomplete)
    categories = _parse_list(TopCategory, raw, "categories", problems, incomplete)
    calendar = _parse_one(CalendarSettings, raw.get("calendar"), "calendar", problems)
    routing = (
        _parse_list(RoutingRule, raw, "routing", problems, incomplete) if "routing" in raw else []
    )
    purposes = (
        _parse_list(ReadPurpose, raw, "read_purposes", problems, incomplete)
        if "read_purposes" in raw
        else [(0, p) for p in DEFAULT_READ_PURPOSES]
    )
    for code in _duplicates(p.code for _, p in purposes):
        problems.append(f"read_purposes: 查阅目的代码重复 duplicate read purpose code {code!r}")
    unit_codes = {s.code for _, s in subs} | {d.code for _, d in departments}
    if city is not None:
        unit_codes.add(city.code)
    category_codes = {c.code for _, top in categories for c, _ in _walk_categories([top])}
    for i, rule in routing:
        if rule.unit not in unit_codes:
            problems.append(f"routing[{i}].unit: 未知单位代码 unknown unit code {rule.unit!r}")
        if rule.category not in category_codes:
            problems.append(
                f"routing[{i}].category: 未知问题分类代码 unknown category code {rule.category!r}"
            )
        if rule.sub_bureau is not None and rule.sub_bureau not in unit_codes:
            problems.append(
                f"routing[{i}].sub_bureau: 未知分县局代码 unknown sub-bureau {rule.sub_bureau!r}"
            )
    makeup_weekday = Weekday.MON
    if "makeup_duty_weekday" in raw:
        try:
            makeup_weekday = _duty_weekday(raw["makeup_duty_weekday"])
        except ValueError as exc:
            problems.append(f"makeup_duty_weekday: {exc} (got {raw['makeup_duty_weekday']!r})")
    due_days = raw.get("instruction_due_working_days", 10)
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 1 <= due_days <= 60:
        problems.append(
            "instruction_due_working_days: 批示答复期限须为 1 至 60 个工作日 must be a whole "
            f"number of working days from 1 to 60 (got {due_days!r})"
        )
    threshold = raw.get("collective_threshold", 5)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        problems.append(
            f"collective_threshold: 集体访人数门槛须为不小于 2 的整数 must be a whole number of at "
            f"least 2 (got {threshold!r})"
        )

    problems.extend(
        _cross_check(city, subs, departments, leaders, categories, incomplete=incomplete)
    )
    if calendar is not None:
        holidays_dir = calendar.holidays_dir
        if base_dir is not None and not holidays_dir.is_absolute():
            holidays_dir = base_dir / holidays_dir
        if not holidays_dir.is_dir():
            problems.append(
                "calendar.holidays_dir: 节假日安排目录不存在 holiday folder not found: "
                f"{holidays_dir}"
            )
        calendar = CalendarSettings(holidays_dir=holidays_dir)

    if problems:
        raise ConfigError(problems, source=source)
    assert city is not None
    assert calendar is not None
    return BureauConfig(
        city=city,
        sub_bureaus=tuple(s for _, s in subs),
        departments=tuple(d for _, d in departments),
        leaders=tuple(leader for _, leader in leaders),
        categories=tuple(c for _, c in categories),
        collective_threshold=threshold,
        calendar=calendar,
        routing=tuple(rule for _, rule in routing),
        read_purposes=tuple(p for _, p in purposes) or DEFAULT_READ_PURPOSES,
        instruction_due_working_days=due_days,
        makeup_duty_weekday=makeup_weekday,
    )


_M = TypeVar("_M", bound=BaseModel)


def _parse_one(model: type[_M], value: Any, label: str, problems: list[str]) -> _M | None:
    if value is None:
        problems.append(f"{label}: 缺少必填项 required section missing")
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, value, label))
        return None


def _parse_list(
    model: type[_M],
    raw: Mapping[str, Any],
    section: str,
    problems: list[str],
    incomplete: set[str],
) -> list[tuple[int, _M]]:
    """The entries that are sound on their own, with their positions in the file; a section
    with any unsound entry is marked incomplete."""
    incomplete.add(section)
    items = raw.get(section)
    if items is None:
        problems.append(f"{section}: 缺少必填项 required section missing")
        return []
    if not isinstance(items, list):
        problems.append(f"{section}: 应为条目列表 must be a list of entries ([[{section}]])")
        return []
    if not items:
        problems.append(f"{section}: 至少需要一项 at least one entry is required")
    parsed: list[tuple[int, _M]] = []
    for index, item in enumerate(items):
        entry = _parse_one(model, item, _entry_label(section, index, item), problems)
        if entry is not None:
            parsed.append((index, entry))
    if len(parsed) == len(items):
        incomplete.discard(section)
    return parsed


def _entry_label(section: str, index: int, item: Any) -> str:
    # Name the entry the way the operator sees it in the file: position, code and name.
    label = f"{section}[{index}]"
    if isinstance(item, Mapping):
        ident = item.get("code", item.get("id"))
        extra = " ".join(str(v) for v in (ident, item.get("name")) if v is not None)
        if extra:
            label += f" ({extra})"
    return label


_ERROR_TEXT = {
    "missing": "缺少必填项 required field missing",
    "extra_forbidden": "不认识的字段 unknown field (check the spelling)",
    "string_pattern_mismatch": "格式不对 wrong format",
    "string_too_short": "不能为空 must not be empty",
    "literal_error": "取值不在允许范围内 not an allowed value",
    "enum": "取值不在允许范围内 not an allowed value",
}


def describe_validation_error(exc: ValidationError, raw: Any, label: str) -> list[str]:
    """Turn pydantic's errors into bilingual lines that name the entry (by code and name, also
    inside nested lists such as sub-categories) rather than a bare index path."""
    lines = []
    for error in exc.errors():
        where = (label + _describe_loc(raw, error["loc"])).lstrip(".") or "(top level)"
        kind = error["type"]
        got = f" (got {error['input']!r})"
        if kind in ("missing", "extra_forbidden"):
            lines.append(f"{where}: {_ERROR_TEXT[kind]}")
        elif kind == "value_error":
            # Our own validators already speak both languages.
            lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}{got}")
        else:
            text = _ERROR_TEXT.get(kind, "取值无效 invalid value")
            lines.append(f"{where}: {text}: {error['msg']}{got}")
    return lines


def _describe_loc(raw: Any, loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
            name = _entry_label("", step, node)
            parts.append(name)
        else:
            parts.append(f".{step}")
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts)


def _duplicates(values: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def _cross_check(
    city: City | None,
    subs: Sequence[tuple[int, SubBureau]],
    departments: Sequence[tuple[int, Department]],
    leaders: Sequence[tuple[int, Leader]],
    categories: Sequence[tuple[int, TopCategory]],
    *,
    incomplete: Collection[str] = (),
) -> list[str]:
    """Rules that span entries. Each message names the offending entries by position, code
    and name, so the operator can find them in the file. "Nobody has X" is not claimed for a
    section in ``incomplete`` (one whose entries did not all parse): the entry already reported
    as broken may well be the one holding X."""
    problems: list[str] = []

    # Sub-bureaus: the city code prefixes each one, so a bureau's code alone says where it sits.
    def sub_label(index: int, sub: SubBureau) -> str:
        return f"sub_bureaus[{index}] ({sub.code} {sub.name})"

    for index, sub in subs:
        if city is None:
            break
        if sub.code == city.code:
            problems.append(
                f"{sub_label(index, sub)}: 代码与市局相同 code is the city bureau's own code"
            )
        elif not sub.code.startswith(city.code):
            problems.append(
                f"{sub_label(index, sub)}: 分县局代码须以市局代码 {city.code} 开头 "
                f"sub-bureau code must start with the city code {city.code}"
            )
    for field, zh in (("code", "代码"), ("name", "名称")):
        for value in _duplicates(getattr(sub, field) for _, sub in subs):
            holders = ", ".join(sub_label(i, s) for i, s in subs if getattr(s, field) == value)
            problems.append(
                f"sub_bureaus: 分县局{zh}重复 duplicate sub-bureau {field} {value!r}: {holders}"
            )

    # Departments: the four with fixed duties must each be findable without ambiguity.
    def dept_label(index: int, dept: Department) -> str:
        return f"departments[{index}] ({dept.code} {dept.name})"

    for value in _duplicates(d.code for _, d in departments):
        holders = ", ".join(dept_label(i, d) for i, d in departments if d.code == value)
        problems.append(f"departments: 部门代码重复 duplicate department code {value!r}: {holders}")
    for role, zh in _REQUIRED_ROLES.items():
        with_role = [dept_label(i, d) for i, d in departments if d.role is role]
        if not with_role and "departments" not in incomplete:
            problems.append(
                f"departments: 缺少{zh} no department has role {role.value!r} (required)"
            )
        elif len(with_role) > 1:
            problems.append(
                f"departments: {zh}只能有一个 only one department may have role "
                f"{role.value!r}: {', '.join(with_role)}"
            )

    # Leaders: one chief, receiving on Wednesday; some leader on duty every weekday.
    def leader_label(index: int, leader: Leader) -> str:
        return f"leaders[{index}] ({leader.id} {leader.name})"

    for value in _duplicates(leader.id for _, leader in leaders):
        holders = ", ".join(leader_label(i, x) for i, x in leaders if x.id == value)
        problems.append(f"leaders: 局领导编号重复 duplicate leader id {value!r}: {holders}")
    problems.extend(_check_sub_bureau_leaders(subs, leaders))
    chiefs = [(i, x) for i, x in leaders if x.is_chief]
    if not chiefs and "leaders" not in incomplete:
        problems.append("leaders: 须指定一名一把手 exactly one leader must have is_chief = true")
    elif len(chiefs) > 1:
        holders = ", ".join(leader_label(i, x) for i, x in chiefs)
        problems.append(
            f"leaders: 一把手只能有一名 exactly one leader may have is_chief = true: {holders}"
        )
    for index, chief in chiefs:
        if chief.duty_weekday is not Weekday.WED:
            problems.append(
                f"{leader_label(index, chief)}: 周三是一把手接访日 the chief receives on "
                f"Wednesdays: duty_weekday must be 'wed' "
                f"(got {chief.duty_weekday.name.lower() if chief.duty_weekday else None!r})"
            )
    if leaders and "leaders" not in incomplete:
        on_duty = {x.duty_weekday for _, x in leaders}
        for weekday in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI):
            if weekday not in on_duty:
                problems.append(
                    f"leaders: {weekday.zh}无局领导接访 no leader is on duty on "
                    f"{weekday.name.capitalize()} (every weekday needs one)"
                )

    # Categories: exactly the three statutory classes on top, codes unique over the whole tree.
    def top_label(index: int, top: TopCategory) -> str:
        return f"categories[{index}] ({top.code} {top.name})"

    kinds = Counter(top.kind for _, top in categories)
    for kind in CategoryKind:
        if kinds[kind] == 0 and "categories" not in incomplete:
            problems.append(
                f"categories: 缺少顶级分类「{kind.zh}」 "
                f"top-level category {kind.value!r} is missing"
            )
        elif kinds[kind] > 1:
            holders = ", ".join(top_label(i, t) for i, t in categories if t.kind is kind)
            problems.append(
                f"categories: 顶级分类「{kind.zh}」重复 top-level category {kind.value!r} "
                f"appears more than once: {holders}"
            )
    for index, top in categories:
        if top.name != top.kind.zh:
            problems.append(
                f"{top_label(index, top)}: 顶级分类 {top.kind.value!r} 的名称应为「{top.kind.zh}」 "
                f"the top-level category of kind {top.kind.value!r} must be named {top.kind.zh}"
            )
        if not top.children:
            problems.append(
                f"{top_label(index, top)}: 至少需要一个子分类 needs at least one sub-category"
            )
    paths = list(_walk_categories(top for _, top in categories))
    for value in _duplicates(c.code for c, _ in paths):
        holders = ", ".join(
            " > ".join(p.name for p in path) for c, path in paths if c.code == value
        )
        problems.append(f"categories: 分类代码重复 duplicate category code {value!r}: {holders}")
    return problems


def _check_sub_bureau_leaders(
    subs: Sequence[tuple[int, SubBureau]], city_leaders: Sequence[tuple[int, Leader]]
) -> list[str]:
    """A sub-bureau's leaders: ids unique over the whole file (events store them, and a leader
    owns cases by id), one head (is_chief) named as the sub-bureau's ``head``, who receives on
    Wednesday like every chief."""
    problems: list[str] = []
    where: dict[str, list[str]] = {}
    for index, leader in city_leaders:
        where.setdefault(leader.id, []).append(f"leaders[{index}]")
    for index, sub in subs:
        label = f"sub_bureaus[{index}] ({sub.code} {sub.name})"
        for position, leader in enumerate(sub.leaders):
            where.setdefault(leader.id, []).append(f"{label}.leaders[{position}]")
        if not sub.leaders:
            continue
        chiefs = [leader for leader in sub.leaders if leader.is_chief]
        if len(chiefs) != 1:
            problems.append(
                f"{label}.leaders: 须指定一名局长 exactly one leader must have is_chief = true "
                f"(got {len(chiefs)})"
            )
        for chief in chiefs:
            if chief.name != sub.head:
                problems.append(
                    f"{label}.leaders: 局长 {chief.name} 与 head {sub.head} 不一致 the chief's "
                    "name must be the sub-bureau's head"
                )
            if chief.duty_weekday not in (None, Weekday.WED):
                problems.append(
                    f"{label}.leaders: 周三是局长接访日 the head receives on Wednesdays: "
                    "duty_weekday must be 'wed'"
                )
    for leader_id, places in where.items():
        if len(places) > 1 and any(".leaders[" in p for p in places):
            problems.append(
                f"局领导编号重复 duplicate leader id {leader_id!r}: {', '.join(places)}"
            )
    return problems
