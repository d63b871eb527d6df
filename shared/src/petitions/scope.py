"""The one scope rule (可见范围): which cases a user may see, in every service and endpoint.

A user sees a case only if it is within their bureau's reach and they are not among its accused
(信访工作条例 Art. 30). The rule is decided here once, as a :class:`Reach` computed from the
principal and the bureau configuration, and applied two ways that must agree: in Python to one
case's :class:`CaseFacts` (:meth:`Reach.sees`) and in SQL to a table of cases
(:meth:`Reach.sql`). Services only supply the facts; none decides scope on its own.

Reach:

* the city bureau's staff see every case, except its handlers (承办人), who see the city
  bureau's own cases: received by or attributed to the city bureau, or handled by it or one of
  its departments. Reporting always limited city handlers so; assignment now agrees.
* a sub-bureau's staff (any role) see the cases received by it, attributed to it, or handled by
  it.
* a token whose bureau the configuration does not know sees nothing: 403, never a guess.

Art. 30: accused units and officers are matched normalised (whitespace stripped, upper-cased):
``p330102007``, `` P330102007 `` and ``P330102007`` are one officer. An accused unit hides the
case from every user of that bureau, and an accused city department from the users whose token
names that department.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from petitions.bureaus import BureauConfig
from petitions.identity import ForbiddenError, Principal, Role

# Python's str.strip() and PostgreSQL's btrim() must strip the same characters, so the set is
# spelled out (the ideographic space U+3000 is what a Chinese input method types).
SPACE = " \t\n\r\f\v\u00a0\u3000"


def normalise_party(code: str) -> str:
    """The form accused units and officers are compared in."""
    return code.strip(SPACE).upper()


def normalise_parties(codes: Iterable[str]) -> tuple[str, ...]:
    """Normalised, without empties or repeats, in first-seen order."""
    seen: dict[str, None] = {}
    for code in codes:
        if normalised := normalise_party(code):
            seen.setdefault(normalised, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the rule needs to know of a case, whichever service holds it."""

    bureau: str
    """The receiving bureau (受理单位)."""
    sub_bureau: str
    """The sub-bureau the case is attributed to (所涉分县局)."""
    unit: str | None = None
    """The handling unit (责任单位): a bureau or a city department; None before assignment."""
    accused_units: Collection[str] = ()
    accused_officers: Collection[str] = ()


Param = Callable[[Any], str]
"""Adds a query parameter and returns its placeholder (``$3``)."""


@dataclass(frozen=True, slots=True)
class Reach:
    """What one principal may see; build it with :func:`reach`."""

    everything: bool
    bureaus: tuple[str, ...]
    """Cases received by or attributed to these bureaus are in reach (unless ``everything``)."""
    units: tuple[str, ...]
    """... and cases handled by these units."""
    parties: tuple[str, ...]
    """The viewer's own unit codes, normalised: their bureau and department (Art. 30)."""
    user: str
    """The viewer's user id, normalised (Art. 30)."""

    def covers(self, bureau: str) -> bool:
        """Whether the viewer may act or report for ``bureau`` as a whole."""
        return self.everything or bureau in self.bureaus

    def in_reach(self, facts: CaseFacts) -> bool:
        return (
            self.everything
            or facts.bureau in self.bureaus
            or facts.sub_bureau in self.bureaus
            or (facts.unit is not None and facts.unit in self.units)
        )

    def accused(self, facts: CaseFacts) -> bool:
        """Whether the case accuses the viewer, their bureau or their department."""
        units = normalise_parties(facts.accused_units)
        return any(u in self.parties for u in units) or self.user in normalise_parties(
            facts.accused_officers
        )

    def sees(self, facts: CaseFacts) -> bool:
        """The rule itself: in reach and not accusing the viewer."""
        return self.in_reach(facts) and not self.accused(facts)

    def sql(
        self,
        param: Param,
        *,
        alias: str = "c",
        bureau: str = "bureau",
        sub_bureau: str = "sub_bureau",
        unit: str = "unit",
        accused_units: str = "accused_units",
        accused_officers: str = "accused_officers",
    ) -> str:
        """The same rule as a SQL condition over a table of cases (columns named as given; the
        accused columns are ``text[]``)."""
        within = self.reach_sql(param, alias=alias, bureau=bureau, sub_bureau=sub_bureau, unit=unit)
        accused = self.accused_sql(
            param, alias=alias, accused_units=accused_units, accused_officers=accused_officers
        )
        return f"({within}) AND NOT ({accused})"

    def reach_sql(
        self,
        param: Param,
        *,
        alias: str = "c",
        bureau: str = "bureau",
        sub_bureau: str = "sub_bureau",
        unit: str = "unit",
    ) -> str:
        if self.everything:
            return "TRUE"
        bureaus, units = param(list(self.bureaus)), param(list(self.units))
        return (
            f"{alias}.{bureau} = ANY({bureaus}::text[]) "
            f"OR {alias}.{sub_bureau} = ANY({bureaus}::text[]) "
            f"OR {alias}.{unit} = ANY({units}::text[])"
        )

    def accused_sql(
        self,
        param: Param,
        *,
        alias: str = "c",
        accused_units: str = "accused_units",
        accused_officers: str = "accused_officers",
    ) -> str:
        space, parties, user = param(SPACE), param(list(self.parties)), param(self.user)
        # Each EXISTS is a subplan run per row; nearly every case accuses no one, and the cheap
        # cardinality test (left of AND, evaluated first) skips it for them: the ledger's count
        # at 264,000 cases spent 1.5 s in the two subplans (issue 17). Same truth value: an
        # empty or NULL array unnests to no rows.
        return (
            f"(cardinality({alias}.{accused_units}) > 0 "
            f"AND EXISTS (SELECT 1 FROM unnest({alias}.{accused_units}) AS au(code) "
            f"WHERE upper(btrim(au.code, {space}::text)) = ANY({parties}::text[]))) "
            f"OR (cardinality({alias}.{accused_officers}) > 0 "
            f"AND EXISTS (SELECT 1 FROM unnest({alias}.{accused_officers}) AS ao(code) "
            f"WHERE upper(btrim(ao.code, {space}::text)) = {user}::text))"
        )


def _unknown_bureau(principal: Principal) -> ForbiddenError:
    return ForbiddenError(
        "bureau_unknown",
        f"您令牌中的单位 {principal.bureau} 未在本系统的单位配置中，请联系管理员 / your token's "
        f"bureau {principal.bureau} is not configured in this system: ask an administrator",
    )


def check_principal(principal: Principal, config: BureauConfig) -> None:
    """Refuse (403) a token the configuration cannot place: an unknown bureau, or a department
    that is unknown or not the city bureau's (departments are the city bureau's, so a
    sub-bureau token naming one is a mistake at the identity platform, not a scope)."""
    if not config.is_bureau(principal.bureau):
        raise _unknown_bureau(principal)
    department = principal.department
    if department is None:
        return
    if not config.is_department(department):
        raise ForbiddenError(
            "department_unknown",
            f"您令牌中的部门 {department:.32} 未在本系统的单位配置中，请联系管理员 / your "
            f"token's department {department:.32} is not configured in this system: ask an "
            "administrator",
        )
    if principal.bureau != config.city.code:
        raise ForbiddenError(
            "department_not_city",
            f"部门 {department} 属于市局 {config.city.code}，令牌单位却是 {principal.bureau}，"
            "请联系身份平台管理员 / department "
            f"{department} belongs to the city bureau {config.city.code}, but the token's "
            f"bureau is {principal.bureau}: ask the identity platform's administrator",
        )


def reach(principal: Principal, config: BureauConfig) -> Reach:
    """The principal's reach; raises :class:`ForbiddenError` (403) for a token the
    configuration does not know (see :func:`check_principal`)."""
    check_principal(principal, config)
    mine = principal.bureau
    city = mine == config.city.code
    parties = normalise_parties(p for p in (mine, principal.department) if p)
    units: tuple[str, ...] = (mine,)
    if city:
        # The city bureau's departments are parts of it: a case they handle is the city's own.
        units = (mine, *(d.code for d in config.departments))
    return Reach(
        everything=city and principal.role is not Role.HANDLER,
        bureaus=(mine,),
        units=units,
        parties=parties,
        user=normalise_party(principal.user),
    )


def sees(principal: Principal, config: BureauConfig, facts: CaseFacts) -> bool:
    """Whether ``principal`` may see the case: within reach, not among its accused."""
    return reach(principal, config).sees(facts)


def ensure_acts_for(principal: Principal, config: BureauConfig, bureau: str) -> None:
    """Raise :class:`ForbiddenError` (403) unless ``principal`` may act or report for
    ``bureau`` (register at it, keep its reception days, read its figures): their own bureau,
    or, for the city bureau's staff except its handlers, any bureau. The same reach as
    :func:`reach`, applied to a bureau rather than a case."""
    mine = reach(principal, config)
    if not mine.covers(bureau):
        raise ForbiddenError(
            "bureau_out_of_scope",
            f"单位 {bureau:.32} 不在您的令牌所属单位 {principal.bureau} 的管辖范围内，"
            "请由该单位或其上级单位的人员办理 / "
            f"Bureau {bureau:.32} is outside the scope of your token's bureau "
            f"{principal.bureau}; ask someone of that bureau or of a bureau above it",
        )


__all__ = [
    "SPACE",
    "CaseFacts",
    "Reach",
    "check_principal",
    "ensure_acts_for",
    "normalise_parties",
    "normalise_party",
    "reach",
    "sees",
]
