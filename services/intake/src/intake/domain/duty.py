"""Who is on reception duty on a day (领导接访值班). Pure.

Leaders of the city bureau and of each sub-bureau receive Monday to Friday, one on duty a day,
the chief (of the city, or the sub-bureau's head) on Wednesday. Days off on the bureau's calendar
(weekends, public holidays) have no session; a make-up working day (调休上班, a weekend day the
holiday notice makes a working day) has one, received as the configuration's
``makeup_duty_weekday`` roster says: the notice does not say which weekday it stands for, and the
bureau decides it once for all such days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from petitions.bureaus import BureauConfig, WorkCalendar
from petitions.bureaus.config import Leader, Weekday


@dataclass(frozen=True)
class OnDuty:
    leader_id: str
    name: str
    title: str
    chief_day: bool  # the chief's (or the sub-bureau head's) Wednesday reception


def duty_weekday(config: BureauConfig, calendar: WorkCalendar, day: date) -> Weekday | None:
    """The roster weekday ``day`` is received as: its own on Monday to Friday, the configured
    one on a make-up working day; None on a day off. Raises for a year with no holiday file."""
    if not calendar.is_working_day(day):
        return None
    weekday = Weekday.of(day)
    return config.makeup_duty_weekday if weekday > Weekday.FRI else weekday


def bureau_leaders(config: BureauConfig, bureau: str) -> Sequence[Leader]:
    """A bureau's own leaders on the roster: the city's, or a sub-bureau's where the
    configuration lists them (``SubBureau.leaders``); a sub-bureau listing none has only its
    head, on Wednesdays."""
    if bureau == config.city.code:
        return config.leaders
    sub = config.sub_bureau(bureau)
    if sub.leaders:
        return sub.leaders
    return (
        Leader(
            id=f"{bureau}-head",
            name=sub.head,
            title="局长 head",
            is_chief=True,
            duty_weekday=Weekday.WED,
        ),
    )


def on_duty(
    config: BureauConfig, calendar: WorkCalendar, bureau: str, day: date
) -> tuple[OnDuty, ...]:
    """Who receives at ``bureau`` on ``day`` (nobody on a day off)."""
    weekday = duty_weekday(config, calendar, day)
    if weekday is None:
        return ()
    return tuple(
        OnDuty(
            leader.id,
            leader.name,
            leader.title,
            leader.is_chief and weekday is Weekday.WED,
        )
        for leader in bureau_leaders(config, bureau)
        if leader.duty_weekday is weekday
    )
