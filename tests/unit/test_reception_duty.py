"""Reception duty as the seed describes it (issue 15): one leader on duty each working day, the
chief on Wednesday, a make-up working Saturday received too. Counted by hand on the 2026
holiday file for February 2026 (Spring Festival 15-23 Feb off; Sat 14 and Sat 28 Feb worked)."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta

import pytest
from intake.domain.duty import duty_weekday, on_duty
from petitions.bureaus import (
    BureauConfig,
    WorkCalendar,
    load_config,
    load_work_calendar,
    validate_config,
)
from petitions.bureaus.config import ConfigError, Weekday

from tests.conftest import ROOT

# By hand: Mon 2-Fri 6, Mon 9-Fri 13, Sat 14 (make-up), Tue 24-Fri 27, Sat 28 (make-up).
FEBRUARY_2026 = [
    *(date(2026, 2, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14)),
    *(date(2026, 2, d) for d in (24, 25, 26, 27, 28)),
]


@pytest.fixture(scope="module")
def config() -> BureauConfig:
    return load_config(ROOT / "deploy/config/bureaus.demo.toml")


@pytest.fixture(scope="module")
def calendar(config: BureauConfig) -> WorkCalendar:
    return load_work_calendar(config)


def _month(calendar: WorkCalendar, config: BureauConfig, bureau: str) -> dict[date, list[str]]:
    day, out = date(2026, 2, 1), {}
    while day.month == 2:
        if duties := on_duty(config, calendar, bureau, day):
            out[day] = [d.leader_id for d in duties]
        day += timedelta(days=1)
    return out


def test_one_city_leader_each_working_day_of_february_2026_make_up_saturdays_included(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    month = _month(calendar, config, "3301")
    assert list(month) == FEBRUARY_2026
    assert all(len(leaders) == 1 for leaders in month.values())
    # The make-up Saturdays follow the configured weekday's roster (Monday: L02).
    assert config.makeup_duty_weekday is Weekday.MON
    assert month[date(2026, 2, 14)] == month[date(2026, 2, 28)] == ["L02"]
    chief_days = [
        day for day in month for d in on_duty(config, calendar, "3301", day) if d.chief_day
    ]
    assert chief_days == [date(2026, 2, 4), date(2026, 2, 11), date(2026, 2, 25)]  # 18th off


def test_a_sub_bureau_receives_on_its_own_roster_or_with_its_head_on_wednesdays(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    """A sub-bureau whose leaders the configuration lists (the leader-ownership work adds them
    to the demo) has one on duty each working day; one listing only its head receives on
    Wednesdays. Whichever the demo file holds, the rule is checked."""
    month = _month(calendar, config, "330102")
    if getattr(config.sub_bureau("330102"), "leaders", ()):
        assert list(month) == FEBRUARY_2026
        assert all(len(leaders) == 1 for leaders in month.values())
        assert month[date(2026, 2, 4)] == ["330102-head"]
    else:
        assert month == {
            date(2026, 2, 4): ["330102-head"],
            date(2026, 2, 11): ["330102-head"],
            date(2026, 2, 25): ["330102-head"],
        }


def test_days_off_have_no_duty_and_the_make_up_weekday_is_configurable(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    assert duty_weekday(config, calendar, date(2026, 2, 18)) is None  # Wednesday, holiday
    assert duty_weekday(config, calendar, date(2026, 2, 21)) is None  # Saturday, holiday
    assert duty_weekday(config, calendar, date(2026, 3, 7)) is None  # an ordinary Saturday
    friday = config.model_copy(update={"makeup_duty_weekday": Weekday.FRI})
    assert [d.leader_id for d in on_duty(friday, calendar, "3301", date(2026, 10, 10))] == ["L05"]
    raw = (ROOT / "deploy/config/bureaus.demo.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw.replace('makeup_duty_weekday = "mon"', 'makeup_duty_weekday = "sat"'))
    with pytest.raises(ConfigError) as refused:
        validate_config(data, base_dir=ROOT / "deploy/config")
    assert "makeup_duty_weekday" in str(refused.value)


def test_a_sub_bureau_with_its_own_leaders_has_one_on_duty_each_working_day(
    calendar: WorkCalendar,
) -> None:
    # The demo configuration's 江城分局 lists its five leaders: the head on Wednesday (the chief's
    # day), 330102-L2 on Monday, whose roster a make-up Saturday follows.
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    month = _month(calendar, config, "330102")
    assert list(month) == FEBRUARY_2026
    assert month[date(2026, 2, 14)] == month[date(2026, 2, 28)] == ["330102-L2"]
    chief_days = [
        day for day in month for d in on_duty(config, calendar, "330102", day) if d.chief_day
    ]
    assert chief_days == [date(2026, 2, 4), date(2026, 2, 11), date(2026, 2, 25)]
