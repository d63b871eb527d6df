"""The demo history `make up` loads looks like a functioning office on the day it is loaded
(issue 15): most cases closed within their statutory periods, a handful running, a few overdue
by days or weeks (never by hundreds of working days), every month with data, and the seed's
practices visible from the start date the demo configures.

The plan is pure: a pinned day gives the same history every time. Deadlines are worked out here
on the configured work calendar the way assignment does (15 days to decide on acceptance, 60 to
handle plus an extension, 30 to decide a review or re-review; a last day off work rolls on)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from devstack.demo import CITY, Demo, Plan
from petitions.bureaus import WorkCalendar, load_config

from tests.conftest import ROOT

TODAY = date(2026, 12, 4)  # a Friday; the demo is anchored at noon of it (Asia/Shanghai)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar.from_directory(ROOT / "deploy/config/holidays")
TERMINAL = {"decline", "forward", "divert"}


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _month(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture(scope="module")
def demo() -> Demo:
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    return Demo(
        "http://intake.invalid",
        "http://assignment.invalid",
        lambda user, role, bureau: "",
        [s.code for s in config.sub_bureaus],
        today=TODAY,
        say=lambda _: None,
    )


@pytest.fixture(scope="module")
def plans(demo: Demo) -> list[Plan]:
    return demo.plan()


def running_deadline(plan: Plan) -> date | None:
    """The statutory deadline running on TODAY for a case whose acts are ``plan.acts``, or
    None when no clock runs (closed: replied and no review pending, or not accepted)."""
    names = [name for _, name, _ in plan.acts]
    last = {name: _day(moment) for moment, name, _ in plan.acts}
    if TERMINAL & set(names):
        return None
    if "accept" not in names:
        return CALENDAR.add_days_deadline(_day(plan.received_at), 15)
    if "reply" not in names:
        extension = sum(b["days"] for _, n, b in plan.acts if n == "grant_extension")
        return CALENDAR.add_days_deadline(last["accept"], 60 + extension)
    for asked, decided in (
        ("request_re_review", "decide_re_review"),
        ("request_review", "decide_review"),
    ):
        if asked in names and decided not in names:
            return CALENDAR.add_days_deadline(last[asked], 30)
    return None


def test_no_case_is_long_overdue_and_a_few_run_late(plans: list[Plan]) -> None:
    running = {id(p): running_deadline(p) for p in plans}
    open_cases = [p for p in plans if running[id(p)] is not None]
    overdue = {
        p.body["summary"] + str(p.received_at): CALENDAR.working_days_between(due, TODAY)
        for p in open_cases
        if (due := running[id(p)]) is not None and due < TODAY
    }
    # For this day: 900 cases, 58 open, 4 of them overdue by 13 to 20 working days.
    assert len(plans) == 900
    assert 20 <= len(open_cases) <= 120, len(open_cases)  # a realistic handful running
    assert 1 <= len(overdue) <= 0.02 * len(plans), overdue  # a few, not none
    assert len(overdue) <= 0.2 * len(open_cases)
    assert max(overdue.values()) <= 20, overdue  # a month of working days at worst


def test_cases_close_within_their_periods(plans: list[Plan]) -> None:
    """Of the cases accepted over 100 days ago nearly all are replied to, most on time."""
    old = [
        p
        for p in plans
        if any(n == "accept" for _, n, _ in p.acts) and (TODAY - _day(p.received_at)).days > 100
    ]
    replied = [p for p in old if any(n == "reply" for _, n, _ in p.acts)]
    assert len(replied) == len(old)
    on_time = 0
    for plan in replied:
        accepted = next(_day(m) for m, n, _ in plan.acts if n == "accept")
        extension = sum(b["days"] for _, n, b in plan.acts if n == "grant_extension")
        reply = next(_day(m) for m, n, _ in plan.acts if n == "reply")
        on_time += reply <= CALENDAR.add_days_deadline(accepted, 60 + extension)
    assert 0.85 <= on_time / len(replied) < 1, on_time / len(replied)
    acceptance = [
        next(_day(m) for m, n, _ in p.acts if n == "accept")
        <= CALENDAR.add_days_deadline(_day(p.received_at), 15)
        for p in old
    ]
    assert sum(acceptance) / len(acceptance) >= 0.95


def test_every_month_has_data(plans: list[Plan]) -> None:
    matters = Counter(_month(_day(p.received_at)) for p in plans)
    month, last = date(2025, 1, 1), date(2026, 11, 1)  # every complete month of the two years
    while month <= last:
        assert matters[month] >= 20, (month, matters[month])
        month = _month(month, -1)
    assert matters[date(2024, 12, 1)]  # the partial months at either end too
    assert matters[date(2026, 12, 1)]


def _justified(plan: Plan) -> bool:
    """domain.md: the latest assessment, a handling outcome superseding intake's."""
    outcomes = [b["outcome"] for _, _, b in plan.acts if "outcome" in b]
    if outcomes:
        return bool(outcomes[-1] == "support")
    return bool(plan.body["preliminary_assessment"] == "justified")


def _first_accompanied(plans: list[Plan], since: date, last: date) -> dict[str, date]:
    """domain.md's accompany roster for each month from ``since`` to ``last``, worked out
    here again from the submissions, and the month each sub-bureau first appears on it."""
    justified: dict[date, Counter[str]] = defaultdict(Counter)
    total: dict[date, Counter[str]] = defaultdict(Counter)
    for plan in plans:
        if plan.body["receiving_bureau"] != CITY:
            continue
        for moment in [plan.received_at, *plan.repeats]:
            month = _month(_day(moment))
            total[month][plan.body["sub_bureau"]] += 1
            justified[month][plan.body["sub_bureau"]] += _justified(plan)
    first: dict[str, date] = {}
    month = since
    while month <= last:
        counted = justified[_month(month, 1)]
        ranked = sorted(
            (code for code, n in counted.items() if n > 0),
            key=lambda code: (-counted[code], -total[_month(month, 1)][code], code),
        )
        for code in ranked[:3]:
            first.setdefault(code, month)
        month = _month(month, -1)
    return first


def _resolution(plans: list[Plan], first: date, last: date, judged: date) -> float:
    """The first-petition resolution rate of the matters received from ``first`` to ``last``:
    of those replied to by ``judged``, the share with no repeat and no review request after the
    reply (up to ``judged``)."""
    replied = resolved = 0
    for plan in plans:
        if not first <= _day(plan.received_at) <= last:
            continue
        replies = [_day(m) for m, n, _ in plan.acts if n == "reply" and _day(m) <= judged]
        if not replies:
            continue
        replied += 1
        after = [_day(t) for t in plan.repeats] + [
            _day(m) for m, n, _ in plan.acts if n == "request_review"
        ]
        resolved += not any(replies[0] < day <= judged for day in after)
    return resolved / replied


def test_the_seeds_practices_show_from_the_start_date(demo: Demo, plans: list[Plan]) -> None:
    """Seven months back (May 2026 for a December load): six whole months after it, six before."""
    since, last = demo.practices_since, date(2026, 11, 1)
    assert since == date(2026, 5, 1)
    # 1. The accompanied sub-bureaus' monthly petitions to the city bureau fall by over half.
    volume: dict[str, Counter[date]] = defaultdict(Counter)
    for plan in plans:
        if plan.body["receiving_bureau"] == CITY:
            for moment in [plan.received_at, *plan.repeats]:
                volume[plan.body["sub_bureau"]][_month(_day(moment))] += 1
    first = _first_accompanied(plans, since, last)
    assert len(first) >= 6, first
    before = after = 0.0
    for code, month in first.items():
        later = [_month(month, -k) for k in range(1, 7) if _month(month, -k) <= last]
        if later:
            before += sum(volume[code][_month(month, k)] for k in range(1, 7)) / 6
            after += sum(volume[code][m] for m in later) / len(later)
    assert after < 0.5 * before, (before, after)
    # 2. The chiefs' Wednesday receptions see more visitors a month (the seed: +56%).
    seen = Counter(
        _month(_day(p.received_at))
        for p in plans
        if p.at_reception and _day(p.received_at).weekday() == 2
    )
    chiefs_before = sum(seen[_month(since, k)] for k in range(1, 7)) / 6
    chiefs_after = sum(seen[_month(since, -k)] for k in range(6)) / 6
    assert chiefs_after >= 1.3 * chiefs_before > 0, (chiefs_before, chiefs_after)
    # 3. The first-petition resolution rate rises (the seed: +34%), the before window judged
    # as long after its end as the after window is.
    after_end = date(2026, 10, 31)
    resolution_after = _resolution(plans, since, after_end, TODAY)
    resolution_before = _resolution(
        plans, date(2025, 11, 1), date(2026, 4, 30), date(2026, 4, 30) + (TODAY - after_end)
    )
    assert resolution_after >= 1.2 * resolution_before, (resolution_before, resolution_after)


def test_the_same_day_gives_the_same_history(demo: Demo, plans: list[Plan]) -> None:
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    again = Demo(
        "http://intake.invalid",
        "http://assignment.invalid",
        lambda user, role, bureau: "",
        [s.code for s in config.sub_bureaus],
        today=TODAY,
        say=lambda _: None,
    ).plan()
    assert [(p.received_at, p.acts, p.repeats) for p in again] == [
        (p.received_at, p.acts, p.repeats) for p in plans
    ]
