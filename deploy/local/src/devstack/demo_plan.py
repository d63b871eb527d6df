"""The demo history planned, before anything is sent: two years of a city bureau that works.

Everything is drawn from one seeded generator and dated relative to an injected *now* (the
moment the demo is loaded), so a test that pins now gets the same history every time.

What a functioning office looks like, as the seed report and the 信访工作条例 describe it:

* Acceptance is decided within the 15 days of Art. 23 (a few some days late); handling ends
  with the reply within the 60 days of Art. 34, a long case with its one extension of 30 days;
  a few replies come days or weeks late. No case is left open for good: the cases still open on
  the day of loading are the recent ones, and the few of them past their deadline are late by
  days or weeks (at most ``LATE_WORKING_DAYS`` working days), never by hundreds.
* Review and re-review are asked within 30 days of delivery and decided within 30 days.
* The seed's practices begin on ``practices_since`` (the first day of the month
  ``PRACTICES_MONTHS_AGO`` months before now's): from then on the three sub-bureaus with the
  most justified petitions to the city bureau in a month accompany the chief the month after
  (the roster is worked out here exactly as domain.md defines it), and a sub-bureau's
  petitions to the city bureau fall by about two thirds from the month it first accompanies;
  the chiefs' Wednesday receptions (the city's and the sub-bureau heads') see about half as
  many visitors again (the seed: +56%); fewer petitioners come back after the reply or ask for
  review (the first-petition resolution rate rises by about a third).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from petitions.bureaus import WorkCalendar

from devstack.demo_cases import CITY, SHANGHAI, Act, Plan, local_day, month_start
from devstack.demo_texts import (
    ACCUSATIONS,
    BASIS,
    COMPLAINTS,
    DELIVERY,
    GIVEN,
    ROADS,
    SUGGESTIONS,
    SURNAMES,
    resident_id,
)

SEED = 20261127
HOLIDAYS = Path(__file__).resolve().parents[3] / "config" / "holidays"

PRACTICES_MONTHS_AGO = 7
"""The practices began this many months before the month of loading: six whole months after it
are over (the practices report's after window) and six before it are in the history."""
LATE_WORKING_DAYS = 20
"""The latest a late act comes after its deadline, in working days."""
ACCOMPANIED_FACTOR = 0.3
"""A sub-bureau's chance of a petition going to the city bureau, once it has accompanied."""
STILL_LATE = 0.12
"""The share of cases whose deadline fell in the last ``LATE_WORKING_DAYS`` working days before
the day of loading that are still open then (overdue by days or weeks)."""
CHIEF_GAIN = 0.56
"""The chiefs' monthly reception volume after the practices began, relative (the seed: +56%)."""
CHIEF_DAY_DRAW = 0.3
"""The share of other days' visitors who come on the week's Wednesday to see the chief (half as
many again once the practices began)."""


class Planner:
    def __init__(
        self,
        sub_bureaus: list[str],
        now: datetime,
        *,
        years: int = 2,
        scale: float = 1.0,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.now = now
        self.today = local_day(now)
        self.first = self.today - timedelta(days=365 * years)
        self.practices_since = month_start(self.today, PRACTICES_MONTHS_AGO)
        self.calendar = calendar or WorkCalendar.from_directory(HOLIDAYS)
        self.rng = random.Random(SEED)  # noqa: S311  (made-up demo data, reproducible)
        self._subs = sub_bureaus
        self._scale = scale
        self.accompanied: dict[str, date] = {}
        """Sub-bureau → the first month it accompanied the chief."""
        self.rosters: dict[date, list[str]] = {}

    # -- days and moments ---------------------------------------------------------------

    def _working(self, day: date) -> date:
        return self.calendar.roll_forward(day)

    def _is_working(self, day: date) -> bool:
        # Lenient in a year with no holiday file (weekends only), like the deadlines.
        return self.calendar.roll_forward(day) == day

    def _at(self, day: date) -> datetime:
        """A moment in office hours on ``day`` (a working day). Acts planned after now are
        dropped later (:meth:`_until_now`); a submission is clamped to before now instead."""
        local = datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI) + timedelta(
            minutes=self.rng.randrange(9 * 60)
        )
        return local.astimezone(UTC)

    def _after(self, day: date, days: float) -> date:
        """The working day on or after ``days`` calendar days after ``day``."""
        return self._working(day + timedelta(days=max(1, round(days))))

    def _late(self, due: date, most: int = LATE_WORKING_DAYS) -> date:
        return self.calendar.add_working_days(due, self.rng.randint(1, most))

    # -- the whole history --------------------------------------------------------------

    def plan(self) -> list[Plan]:
        rng = self.rng
        subs = self._subs
        # A third of the sub-bureaus never have a petition reach the city bureau (seed: 8 of 24).
        quiet = set(rng.sample(subs, k=len(subs) // 3))
        weights = [rng.uniform(0.3, 3.0) for _ in subs]
        total_days = (self.today - self.first).days
        count = int(900 * self._scale)
        days = sorted(self.first + timedelta(days=rng.randrange(total_days)) for _ in range(count))
        plans: list[Plan] = []
        month = month_start(self.first)
        for n, day in enumerate(days):
            while month_start(day) > month:
                month = month_start(month, -1)
                self._roster_for(month, plans)
            if not self._is_working(day) and rng.random() < 0.8:
                # Most come on working days: the one before, if in the same month (a month's
                # roster is counted once the month is over).
                before = day
                while not self._is_working(before):
                    before -= timedelta(days=1)
                day = before if month_start(before) == month else day
            plans.append(self._case(n, day, rng.choices(subs, weights)[0], quiet))
        plans.sort(key=lambda p: p.received_at)
        self._chief_days(plans)
        return plans

    def _chief_days(self, plans: list[Plan]) -> None:
        """Who is seen at the chiefs' Wednesday receptions: before the practices half of the
        Wednesday visitors; from their start month on, each month, as many more as the seed
        reports (+56%) over the average of the six months before, as far as there are
        visitors. Counted rather than drawn one by one: a few visitors a month would leave the
        figure to chance."""
        wednesdays: dict[date, list[Plan]] = defaultdict(list)
        for plan in plans:
            day = local_day(plan.received_at)
            if plan.body["channel"] == "visit" and day.weekday() == 2 and self._is_working(day):
                wednesdays[month_start(day)].append(plan)
        for month, visitors in wednesdays.items():
            if month < self.practices_since:
                seen = round(len(visitors) * 0.5)
            else:
                before = [
                    len(wednesdays.get(month_start(self.practices_since, k), []))
                    for k in range(1, 7)
                ]
                seen = min(len(visitors), round(sum(before) / 6 * 0.5 * (1 + CHIEF_GAIN)))
            chosen = set(map(id, self.rng.sample(visitors, k=seen)))
            for plan in visitors:
                plan.at_reception = id(plan) in chosen

    def _roster_for(self, month: date, plans: list[Plan]) -> None:
        """domain.md's accompany roster for ``month``, on the month before: the up-to-three
        sub-bureaus with the most justified petitions to the city bureau (above zero), ties by
        their submissions to it, then by code. Only from the month the practices began."""
        if month < self.practices_since:
            return
        before = month_start(month, 1)
        justified: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        for plan in plans:
            if not plan.to_city:
                continue
            for moment in plan.submissions():
                if month_start(local_day(moment)) == before:
                    total[plan.sub_bureau] += 1
                    justified[plan.sub_bureau] += plan.justified
        ranked = sorted(
            (code for code in justified if justified[code] > 0),
            key=lambda code: (-justified[code], -total[code], code),
        )
        self.rosters[month] = ranked[:3]
        for code in ranked[:3]:
            self.accompanied.setdefault(code, month)

    def _case(self, n: int, day: date, sub: str, quiet: set[str]) -> Plan:
        rng = self.rng
        kind = rng.random()
        if kind < 0.12:
            category, summary, requests = rng.choice(SUGGESTIONS)
        elif kind < 0.22:
            category, summary, requests = rng.choice(ACCUSATIONS)
        else:
            category, summary, requests = rng.choice(COMPLAINTS)
        chance = 0.35
        first_accompanied = self.accompanied.get(sub)
        if first_accompanied is not None and month_start(day) >= first_accompanied:
            chance *= ACCOMPANIED_FACTOR  # its head now answers for it at the city's reception
        to_city = sub not in quiet and rng.random() < chance
        receiving = CITY if to_city else sub
        channel = rng.choices(
            ["visit", "letter", "phone", "online", "congress_referral", "higher_referral"],
            [45, 12, 15, 22, 3, 3],
        )[0]
        practised = day >= self.practices_since
        at_reception = False
        if channel == "visit" and self._is_working(day):
            # Visitors on a reception day may be seen by the leader receiving (at the city a
            # leader every working day, at a sub-bureau its head on Wednesdays); many come on
            # the chiefs' Wednesday. From the start of the practices more of them are seen.
            wednesday = day - timedelta(days=day.weekday() - 2)
            movable = (
                self._is_working(wednesday)
                and month_start(wednesday) == month_start(day)
                and wednesday <= self.today
            )
            draw = CHIEF_DAY_DRAW * (1.5 if practised else 1)
            if day.weekday() != 2 and rng.random() < draw and movable:
                day = wednesday
            at_reception = rng.random() < (0.78 if practised else 0.5)
        heads = 1 if rng.random() > 0.06 else rng.randint(5, 12)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        body: dict[str, Any] = {
            "channel": channel,
            "receiving_bureau": receiving,
            "receiving_officer": f"{receiving}-接待{rng.randint(1, 6):02d}",
            "petitioners": [
                {
                    "name": name,
                    "resident_id": resident_id(rng, sub),
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "address": f"临江市{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                }
            ],
            "head_count": heads,
            "category": category,
            "sub_bureau": sub,
            "summary": summary,
            "requests": requests,
            "preliminary_assessment": rng.choices(
                ["justified", "not_justified", "undetermined"], [25, 25, 50]
            )[0],
        }
        if channel in ("congress_referral", "higher_referral"):
            prefix = "临人大交" if channel == "congress_referral" else "临信转"
            body["document_number"] = f"{prefix}〔{day.year}〕{n + 1}号"
        if category.startswith("JK"):
            body["accused_units"] = [sub]
        if rng.random() < 0.03:
            body["escalation"] = rng.choice(["province", "beijing"])
        received = min(self._at(day), self.now - timedelta(minutes=10))
        plan = Plan(received, body, at_reception=at_reception)
        self._story(plan, channel, practised)
        self._until_now(plan)
        return plan

    def _until_now(self, plan: Plan) -> None:
        """Keep what has happened by now: a recent case is still open, at whatever step. The
        acts were planned in their logical order; each is moved to at least a minute after the
        one before, so that order is also the order in time."""
        cutoff = self.now - timedelta(minutes=5)
        acts: list[Act] = []
        for moment, name, body in plan.acts:
            if acts and moment <= acts[-1][0]:
                moment = acts[-1][0] + timedelta(minutes=1)
            acts.append((moment, name, body))
        first_future = next((i for i, a in enumerate(acts) if a[0] > cutoff), len(acts))
        plan.acts = acts[:first_future]
        plan.repeats = sorted(t for t in plan.repeats if t <= cutoff)

    # -- one case -----------------------------------------------------------------------

    def _story(self, plan: Plan, channel: str, practised: bool) -> None:
        """The acts of one case in their logical order, each dated."""
        rng = self.rng
        acts = plan.acts
        received = local_day(plan.received_at)
        acceptance_due = self.calendar.add_days_deadline(received, 15)
        if rng.random() < 0.02:
            decided = self._late(acceptance_due, 5)  # decided a few days too late
        else:
            decided = min(self._after(received, rng.uniform(1, 9)), acceptance_due)
        roll = rng.random()
        if roll < 0.04:
            reason = "不属于公安机关职责范围，已告知向有关机关提出"
            acts.append((self._at(decided), "decline", {"reason": reason}))
            return
        if roll < 0.06:
            body = {"organ": "区人民政府", "reason": "属地方政府职责"}
            acts.append((self._at(decided), "forward", body))
            return
        if roll < 0.07:
            body = {"procedure": "行政复议", "reason": "已进入法定救济途径"}
            acts.append((self._at(decided), "divert", body))
            return
        accepted = decided
        acts.append((self._at(accepted), "accept", {"notice": "已受理，将于60日内答复"}))
        hard = rng.random() < 0.03
        if hard or rng.random() < 0.05:
            # Leader ownership (包案); the sub-bureau joins the team unless the accusation
            # names it (Art. 30). A hard case is the chief's, with the party committee.
            sub_bureau = plan.sub_bureau
            local = [] if sub_bureau in plan.body.get("accused_units", []) else [sub_bureau]
            owner = "L01" if hard else rng.choice(["L01", "L02", "L03", "L04", "L05"])
            ownership = {
                "leader_id": owner,
                "team": ["信访科", "法制支队", *local],
                "plan": "一个问题、一名领导、一个专班、一套方案、一抓到底",
                "needs_party_committee": hard or rng.random() < 0.3,
            }
            acts.append((self._at(self._after(accepted, 1)), "take_ownership", ownership))
        if channel != "congress_referral" and rng.random() < 0.01:
            supervised = self._after(accepted, 2)
            document = f"临人大督〔{supervised.year}〕{rng.randint(1, 30)}号"
            acts.append((self._at(supervised), "congress_supervise", {"document_number": document}))
        replied = self._handling(plan, accepted, hard)
        self._after_reply(plan, channel, replied, practised)

    def _handling(self, plan: Plan, accepted: date, hard: bool) -> date:
        """Progress each week, maybe an extension, the completion report and its acceptance;
        returns the day of the reply."""
        rng = self.rng
        due = self.calendar.add_days_deadline(accepted, 60)
        extension = 0
        roll = rng.random()
        if hard or roll < 0.08:
            # A long case: the unit head grants the one extension (Art. 34) before the 60 days
            # are out; most then finish within it, a few late.
            extension = 30
            due = self.calendar.add_days_deadline(accepted, 60 + extension)
            if rng.random() < (0.3 if hard else 0.1):
                replied = self._late(due)
            else:
                replied = min(self._after(accepted, rng.uniform(62, 88)), due)
        elif roll < 0.10:
            replied = self._late(due)  # late without an extension
        else:
            replied = min(self._after(accepted, rng.uniform(12, 55)), due)
        recent = self.calendar.working_days_before(self.today, LATE_WORKING_DAYS)
        if recent <= due < self.today and replied <= self.today and rng.random() < STILL_LATE:
            # What an office sees on any day: a few cases whose deadline passed in the last
            # weeks still being handled (late by days or weeks, never by months).
            replied = self._late(self.today, 10)
        reported = self.calendar.working_days_before(replied, rng.randint(2, 4))
        during: list[Act] = []
        week = 1
        while accepted + timedelta(days=week * 7 - 2) < reported:
            if hard or rng.random() < 0.7:  # some weeks are missed: the bulletin shows them
                note = f"第{week}周：已走访核实，正在协调处理"
                day = self._working(accepted + timedelta(days=week * 7 - 2))
                during.append((self._at(day), "record_progress", {"note": note}))
            week += 1
        if extension:
            asked = self._after(accepted, rng.uniform(40, 50))
            reason = "案情复杂，需进一步调查核实"
            during.append(
                (self._at(asked), "grant_extension", {"days": extension, "reason": reason})
            )
        plan.acts.extend(sorted(during, key=lambda a: a[0]))
        if rng.random() < 0.1:
            first = self.calendar.working_days_before(reported, 3)
            plan.acts.append((self._at(first), "report_completion", {"summary": "已调查核实"}))
            back = self.calendar.working_days_before(reported, 2)
            plan.acts.append((self._at(back), "send_back", {"reason": "办结材料不全，请补充"}))
            plan.acts.append((self._at(reported), "report_completion", {"summary": "已补充材料"}))
        else:
            summary = {"summary": "已调查核实并作出处理"}
            plan.acts.append((self._at(reported), "report_completion", summary))
        approved = self.calendar.working_days_before(replied, 1)
        plan.acts.append((self._at(approved), "accept_completion", {"note": "同意办结"}))
        return replied

    def _after_reply(self, plan: Plan, channel: str, replied: date, practised: bool) -> None:
        rng = self.rng
        acts = plan.acts
        outcome = rng.choices(["support", "explain", "not_supported"], [35, 45, 20])[0]
        reply = {
            "outcome": outcome,
            "legal_basis": BASIS,
            "summary": "经调查核实，作出如下处理意见",
        }
        acts.append((self._at(replied), "reply", reply))
        delivered = self.calendar.next_working_day(replied)
        acts.append((self._at(delivered), "record_delivery", dict(DELIVERY)))
        if channel == "congress_referral" or any(a[1] == "congress_supervise" for a in acts):
            report = {"report": "办理情况书面报告"}
            acts.append((self._at(self._after(replied, 2)), "congress_report", report))
        if rng.random() < 0.8:
            rating = rng.choices(
                ["satisfied", "basically_satisfied", "dissatisfied"], [70, 20, 10]
            )[0]
            acts.append(
                (self._at(self._after(replied, 3)), "rate_satisfaction", {"rating": rating})
            )
        # Repeats: a few before the reply, some after it (those petitioners did not cease);
        # fewer after the practices began, and fewer reviews asked.
        received = local_day(plan.received_at)
        if rng.random() < 0.12 and (replied - received).days > 6:
            before = received + timedelta(days=rng.randint(5, (replied - received).days - 1))
            plan.repeats.append(self._at(self._working(before)))
        if rng.random() < (0.04 if practised else 0.2):
            plan.repeats.append(self._at(self._after(replied, rng.uniform(3, 40))))
        if rng.random() < (0.02 if practised else 0.12):
            self._reviews(plan, outcome, delivered)

    def _reviews(self, plan: Plan, outcome: str, delivered: date) -> None:
        """Review asked within 30 days of delivery and decided within 30 (Art. 35); sometimes a
        re-review the same way (Art. 36)."""
        rng = self.rng
        acts = plan.acts
        asked = self._request_day(delivered)
        acts.append((self._at(asked), "request_review", {}))
        decided = self._decision_day(asked)
        upheld = {"decision": "upheld", "outcome": outcome, "summary": "维持原处理意见"}
        acts.append((self._at(decided), "decide_review", upheld))
        delivered = self.calendar.next_working_day(decided)
        acts.append((self._at(delivered), "record_delivery", dict(DELIVERY)))
        if rng.random() < 0.4:
            again = self._request_day(delivered)
            acts.append((self._at(again), "request_re_review", {}))
            upheld = {"decision": "upheld", "outcome": outcome, "summary": "复核维持"}
            acts.append((self._at(self._decision_day(again)), "decide_re_review", upheld))

    def _request_day(self, delivered: date) -> date:
        window = self.calendar.add_days_deadline(delivered, 30)
        return min(self._after(delivered, self.rng.uniform(5, 25)), window)

    def _decision_day(self, asked: date) -> date:
        due = self.calendar.add_days_deadline(asked, 30)
        return min(self._after(asked, self.rng.uniform(10, 27)), due)


# Re-exported: demo.py imports these from here.
__all__ = ["CITY", "SHANGHAI", "Plan", "Planner", "local_day", "month_start", "resident_id"]
