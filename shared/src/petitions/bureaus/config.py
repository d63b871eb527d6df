"""The bureau configuration: the city bureau, its sub-bureaus, departments, leaders, categories.

One TOML file holds it all (``deploy/config/bureaus.demo.toml`` is the demo). It is read once at
start-up by :func:`load_config`, which reports *every* problem in the file at once through
:class:`ConfigError`: an operator fixing a 24-bureau file should not meet its errors one by one.

By role: :mod:`.entries` (the sections' models, enums, errors), this module (the whole
configuration and its look-ups), :mod:`.rules` (the rules across entries), :mod:`.validation`
(reading and checking the file).

Codes are stable identifiers: events store them, so a code is never reused for something else
and never renamed; names may change freely.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    model_validator,
)

from petitions.bureaus.entries import (
    DEFAULT_READ_PURPOSES,
    CalendarSettings,
    Category,
    CategoryKind,
    City,
    ConfigError,
    Department,
    DepartmentRole,
    DutyWeekday,
    FrozenModel,
    Leader,
    ReadPurpose,
    RoutingRule,
    SubBureau,
    SubBureauKind,
    TopCategory,
    UnknownCodeError,
    Weekday,
    walk_categories,
)
from petitions.bureaus.rules import cross_check

__all__ = [
    "DEFAULT_READ_PURPOSES",
    "BureauConfig",
    "CalendarSettings",
    "Category",
    "CategoryKind",
    "City",
    "ConfigError",
    "Department",
    "DepartmentRole",
    "Leader",
    "ReadPurpose",
    "RoutingRule",
    "SubBureau",
    "SubBureauKind",
    "TopCategory",
    "UnknownCodeError",
    "Weekday",
]


class BureauConfig(FrozenModel):
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
        self._categories = {c.code: path for c, path in walk_categories(self.categories)}

    @model_validator(mode="after")
    def _consistent(self) -> BureauConfig:
        problems = cross_check(
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
