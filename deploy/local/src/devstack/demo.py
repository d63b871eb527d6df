"""Demo history: two years of a city bureau with 24 sub-bureaus, loaded through the public APIs.

Nothing is written into tables: every case is registered at intake and taken through its
workflow at assignment over HTTP, exactly as people would, with tokens of the import role
(数据导入), the only role that may date an act in the past. Reporting then builds the ledger,
bulletins and analyses from the events like any other day. Every event keeps its recorded time
(when the demo was loaded) beside the occurred time it was given.

The numbers follow the seed report's shape: about 900 matters and 1,100 submissions over two
years, a third of sub-bureaus with no petitions to the city bureau, a closure rate in the
nineties, some repeats after a reply, leader-owned and People's Congress cases.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = 20261127
CITY = "3301"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅海燕林"
_ROADS = ("解放路", "中山路", "人民路", "建设路", "江滨路", "文化路", "新华路", "朝阳路")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_COMPLAINTS = (
    ("SQ0101", "反映邻里纠纷报警后处理不及时", "要求依法处理"),
    ("SQ0102", "对治安处罚决定不服", "要求撤销处罚"),
    ("SQ0201", "报案后公安机关不予立案", "要求立案侦查"),
    ("SQ01", "反映小区周边夜间噪音扰民", "要求加强管理"),
    ("SQ02", "反映案件办理进度缓慢", "要求尽快办结"),
)
_SUGGESTIONS = (
    ("JY03", "建议延长户籍窗口周末服务时间", "改进服务"),
    ("JY04", "建议优化学校周边交通组织", "增设护学岗"),
    ("JY05", "建议增加夜间巡逻", "加强治安防控"),
)
_ACCUSATIONS = (
    ("JK01", "检举民警执法中态度粗暴", "要求调查处理"),
    ("JK02", "反映辅警违规收费", "要求查处"),
    ("JK03", "反映值班人员接警后未出警", "要求追责"),
)
_MISSED = ("参加会议 meeting",) * 6 + ("病假 illness",)


def resident_id(rng: random.Random, region: str) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


@dataclass
class Plan:
    """One case's story: its submissions and the workflow acts, with when they happened."""

    received_at: datetime
    body: dict[str, Any]
    repeats: list[datetime] = field(default_factory=list)
    acts: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)
    case_id: str | None = None


class Demo:
    def __init__(
        self,
        intake: str,
        assignment: str,
        token: Callable[[str, str, str], str],
        sub_bureaus: list[str],
        *,
        today: date | None = None,
        years: int = 2,
        scale: float = 1.0,
        say: Callable[[str], None] = print,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self._intake = intake
        self._assignment = assignment
        self._token = token
        self._now = datetime.now(UTC)
        self._today = today or self._now.astimezone(SHANGHAI).date()
        self._first = self._today - timedelta(days=365 * years)
        self._scale = scale
        self._rng = random.Random(SEED)  # noqa: S311  (made-up demo data, reproducible)
        self._say = say
        self._progress = progress
        self._subs = sub_bureaus

    # -- the plan ------------------------------------------------------------------------

    def _moment(self, day: date, hour_from: int = 9, hour_to: int = 17) -> datetime:
        local = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(
            hours=self._rng.uniform(hour_from, hour_to)
        )
        return min(local.astimezone(UTC), self._now - timedelta(minutes=10))

    def _later(self, moment: datetime, days: float) -> datetime:
        day = (moment + timedelta(days=days)).astimezone(SHANGHAI)
        if day.weekday() >= 5:  # acts happen on weekdays, in office hours
            day += timedelta(days=7 - day.weekday())
        office = datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
        target = max(office + timedelta(minutes=self._rng.randrange(9 * 60)), moment)
        return target.astimezone(UTC)

    def plan(self, subs: list[str]) -> list[Plan]:
        rng = self._rng
        # A third of the sub-bureaus never have a petition reach the city bureau (seed: 8 of 24).
        quiet = set(rng.sample(subs, k=len(subs) // 3))
        weights = [rng.uniform(0.3, 3.0) for _ in subs]
        total_days = (self._today - self._first).days
        count = int(900 * self._scale)
        plans = []
        for n in range(count):
            day = self._first + timedelta(days=rng.randrange(total_days))
            if day.weekday() >= 5 and rng.random() < 0.8:
                day -= timedelta(days=day.weekday() - 4)
            sub = rng.choices(subs, weights)[0]
            kind = rng.random()
            if kind < 0.12:
                category, summary, requests = rng.choice(_SUGGESTIONS)
            elif kind < 0.22:
                category, summary, requests = rng.choice(_ACCUSATIONS)
            else:
                category, summary, requests = rng.choice(_COMPLAINTS)
            to_city = sub not in quiet and rng.random() < 0.35
            receiving = CITY if to_city else sub
            channel = rng.choices(
                ["visit", "letter", "phone", "online", "congress_referral", "higher_referral"],
                [45, 12, 15, 22, 3, 3],
            )[0]
            heads = 1 if rng.random() > 0.06 else rng.randint(5, 12)
            name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2)))
            body: dict[str, Any] = {
                "channel": channel,
                "receiving_bureau": receiving,
                "receiving_officer": f"{receiving}-接待{rng.randint(1, 6):02d}",
                "petitioners": [
                    {
                        "name": name,
                        "resident_id": resident_id(rng, sub),
                        "phone": f"13{rng.randrange(10**9):09d}",
                        "address": f"临江市{rng.choice(_ROADS)}{rng.randint(1, 300)}号",
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
            received = self._moment(day)
            plan = Plan(received, body)
            self._story(plan, channel)
            self._until_now(plan)
            plans.append(plan)
        plans.sort(key=lambda p: p.received_at)
        return plans

    def _until_now(self, plan: Plan) -> None:
        """Keep what has happened by now: a recent case is still open, at whatever step. The
        acts were planned in their logical order; each is moved to at least a minute after the
        one before, so that order is also the order in time."""
        cutoff = self._now - timedelta(minutes=5)
        acts: list[tuple[datetime, str, dict[str, Any]]] = []
        for moment, name, body in plan.acts:
            if acts and moment <= acts[-1][0]:
                moment = acts[-1][0] + timedelta(minutes=1)
            acts.append((moment, name, body))
        first_future = next((i for i, a in enumerate(acts) if a[0] > cutoff), len(acts))
        plan.acts = acts[:first_future]
        plan.repeats = [t for t in plan.repeats if t <= cutoff]

    def _story(self, plan: Plan, channel: str) -> None:
        """The acts of one case, as far as they have happened by today."""
        rng = self._rng
        t = plan.received_at
        acts = plan.acts
        roll = rng.random()
        t = self._later(t, rng.uniform(1, 9))
        if roll < 0.04:
            acts.append((t, "decline", {"reason": "不属于公安机关职责范围，已告知向有关机关提出"}))
            return
        if roll < 0.06:
            acts.append((t, "forward", {"organ": "区人民政府", "reason": "属地方政府职责"}))
            return
        if roll < 0.07:
            acts.append((t, "divert", {"procedure": "行政复议", "reason": "已进入法定救济途径"}))
            return
        acts.append((t, "accept", {"notice": "已受理，将于60日内答复"}))
        if rng.random() < 0.05:
            leader = rng.choice(["L01", "L02", "L03", "L04", "L05"])
            # The sub-bureau joins the team, unless the accusation names it (Art. 30).
            sub_bureau = plan.body["sub_bureau"]
            local = [] if sub_bureau in plan.body.get("accused_units", []) else [sub_bureau]
            acts.append(
                (
                    self._later(t, 1),
                    "take_ownership",
                    {
                        "leader_id": leader,
                        "team": ["信访科", "法制支队", *local],
                        "plan": "一个问题、一名领导、一个专班、一套方案、一抓到底",
                        "needs_party_committee": rng.random() < 0.3,
                    },
                )
            )
        if channel != "congress_referral" and rng.random() < 0.01:
            supervised = self._later(t, 2)
            document = f"临人大督〔{supervised.year}〕{rng.randint(1, 30)}号"
            acts.append((supervised, "congress_supervise", {"document_number": document}))
        if rng.random() < 0.03:
            # A hard case still open long after its deadline: leader-owned, progress reported,
            # no reply yet (the supervision sweep flags it).
            acts.append(
                (
                    self._later(t, 1),
                    "take_ownership",
                    {
                        "leader_id": "L01",
                        "team": ["信访科", "法制支队"],
                        "plan": "多次约谈，联合属地化解",
                        "needs_party_committee": True,
                    },
                )
            )
            for week in range(1, 12):
                acts.append((self._later(t, week * 7), "record_progress", {"note": "持续化解中"}))
            return
        handling = rng.uniform(10, 58) if rng.random() > 0.08 else rng.uniform(62, 85)
        during: list[tuple[datetime, str, dict[str, Any]]] = []
        for week in range(1, int(handling // 7) + 1):
            if rng.random() < 0.7:  # some weeks are missed: the bulletin shows them
                note = f"第{week}周：已走访核实，正在协调处理"
                during.append((self._later(t, week * 7 - 2), "record_progress", {"note": note}))
        if handling > 55 and rng.random() < 0.7:
            reason = "案情复杂，需进一步调查核实"
            during.append((self._later(t, 45), "grant_extension", {"days": 30, "reason": reason}))
        acts.extend(sorted(during, key=lambda a: a[0]))
        done = self._later(t, handling - 2)
        acts.append((done, "report_completion", {"summary": "已调查核实并作出处理"}))
        if rng.random() < 0.1:
            acts.append((self._later(done, 1), "send_back", {"reason": "办结材料不全，请补充"}))
            done = self._later(done, 3)
            acts.append((done, "report_completion", {"summary": "已补充材料"}))
        acts.append((self._later(done, 1), "accept_completion", {"note": "同意办结"}))
        replied = self._later(done, 2)
        outcome = rng.choices(["support", "explain", "not_supported"], [35, 45, 20])[0]
        acts.append(
            (
                replied,
                "reply",
                {
                    "outcome": outcome,
                    "legal_basis": "《信访工作条例》第三十二条及相关法律法规",
                    "summary": "经调查核实，作出如下处理意见",
                },
            )
        )
        # Handed over the next working day: the review window runs from then (Art. 35). No
        # random draw here, so the demo's other figures stay as they were.
        delivery = {"method": "in_person", "receipt": "信访人签收送达回证"}
        acts.append((replied + timedelta(days=1), "record_delivery", delivery))
        if channel == "congress_referral" or any(a[1] == "congress_supervise" for a in acts):
            acts.append(
                (self._later(replied, 2), "congress_report", {"report": "办理情况书面报告"})
            )
        if rng.random() < 0.8:
            rating = rng.choices(
                ["satisfied", "basically_satisfied", "dissatisfied"], [70, 20, 10]
            )[0]
            acts.append((self._later(replied, 3), "rate_satisfaction", {"rating": rating}))
        # Repeats: a few before the reply, some after it (those petitioners did not cease).
        if rng.random() < 0.12:
            plan.repeats.append(self._later(plan.received_at, rng.uniform(5, 30)))
        if rng.random() < 0.09:
            plan.repeats.append(self._later(replied, rng.uniform(3, 40)))
        if rng.random() < 0.06:
            asked = self._later(replied, rng.uniform(5, 25))
            acts.append((asked, "request_review", {}))
            decided = self._later(asked, rng.uniform(10, 28))
            acts.append(
                (
                    decided,
                    "decide_review",
                    {"decision": "upheld", "outcome": outcome, "summary": "维持原处理意见"},
                )
            )
            acts.append((decided + timedelta(days=1), "record_delivery", delivery))
            if rng.random() < 0.4:
                again = self._later(decided, rng.uniform(5, 25))
                acts.append((again, "request_re_review", {}))
                acts.append(
                    (
                        self._later(again, rng.uniform(10, 28)),
                        "decide_re_review",
                        {"decision": "upheld", "outcome": outcome, "summary": "复核维持"},
                    )
                )

    # -- loading -------------------------------------------------------------------------

    def _step(self, stage: str, done: int, total: int, every: int) -> None:
        """Progress: to the progress callback (a bar) on every step, else a line now and then."""
        if self._progress is not None:
            self._progress(stage, done, total)
        elif done % every == 0:
            self._say(f"演示 demo: {stage} {done}/{total}")

    def _headers(self, role: str, bureau: str = CITY, user: str = "demo-import") -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token(user, role, bureau)}"}

    async def run(self) -> dict[str, int]:
        started = time.monotonic()
        transport = _RetryUnavailable(httpx.AsyncHTTPTransport())
        async with httpx.AsyncClient(timeout=60, transport=transport) as http:
            plans = self.plan(self._subs)
            await self._reception(http)
            # The periodic sweep runs meanwhile: an open import batch keeps it off the cases
            # until their whole history is in (else every case would look overdue at first).
            opened = await http.post(
                f"{self._assignment}/api/v1/imports",
                json={"label": "演示数据 demo history"},
                headers=self._headers("importer"),
            )
            opened.raise_for_status()
            try:
                await self._register(http, plans)
                await self._take_up(http, plans)
                acts = await self._act(http, plans)
            finally:
                # Even a load that failed half-way closes its batch: an open one would keep the
                # sweep off the imported cases for good.
                closed = await http.post(
                    f"{self._assignment}/api/v1/imports/{opened.json()['batch_id']}/close",
                    headers=self._headers("importer"),
                )
                closed.raise_for_status()
            sweep = await http.post(
                f"{self._assignment}/api/v1/sweep", json={}, headers=self._headers("admin")
            )
            sweep.raise_for_status()
        seconds = time.monotonic() - started
        self._say(f"演示数据已载入 demo loaded: {len(plans)} cases, {acts} acts in {seconds:.0f} s")
        return {"cases": len(plans), "acts": acts}

    async def _reception(self, http: httpx.AsyncClient) -> None:
        """The city bureau's reception days for the two years, held, or missed with a reason."""
        headers = self._headers("petition_office")
        start = self._first
        sessions: list[dict[str, Any]] = []
        while start < self._today:
            end = min(start + timedelta(days=360), self._today - timedelta(days=1))
            response = await http.post(
                f"{self._intake}/api/v1/reception/schedule",
                json={
                    "bureau": CITY,
                    "first": start.isoformat(),
                    "last": end.isoformat(),
                    "place": "市局信访接待大厅",
                },
                headers=headers,
            )
            response.raise_for_status()
            sessions.extend(response.json())
            start = end + timedelta(days=1)
        chief_days = [s for s in sessions if s["chief_day"]]
        missed = {s["session_id"] for s in self._rng.sample(chief_days, k=min(7, len(chief_days)))}
        reasons = iter(_MISSED)
        self._say(f"演示：接访日 demo: {len(sessions)} reception sessions")
        semaphore = asyncio.Semaphore(8)
        closed = 0

        async def close(session: dict[str, Any]) -> None:
            nonlocal closed
            async with semaphore:
                sid = session["session_id"]
                if sid in missed:
                    url, body = "missed", {"reason": next(reasons)}
                elif self._rng.random() < 0.03:
                    url, body = "missed", {"reason": "参加会议 meeting"}
                else:
                    url, body = "held", {"held_by": session["leader_name"]}
                response = await http.post(
                    f"{self._intake}/api/v1/reception/sessions/{sid}/{url}",
                    json=body,
                    headers=headers,
                )
                response.raise_for_status()
                closed += 1
                self._step("接访日 reception days", closed, len(sessions), every=10**9)

        await asyncio.gather(*(close(s) for s in sessions))

    async def _register(self, http: httpx.AsyncClient, plans: list[Plan]) -> None:
        headers = self._headers("importer")
        submissions = sorted(
            [(p.received_at, p, False) for p in plans]
            + [(t, p, True) for p in plans for t in p.repeats],
            key=lambda item: item[0],
        )
        self._say(f"演示：登记 demo: registering {len(submissions)} submissions ...")
        for n, (moment, plan, repeat) in enumerate(submissions, 1):
            body = dict(plan.body, received_at=moment.isoformat())
            if repeat:
                if plan.case_id is None:
                    continue
                body |= {"link_case_id": plan.case_id, "link_reason": "同一事项再次来访"}
            response = await http.post(
                f"{self._intake}/api/v1/submissions", json=body, headers=headers
            )
            if response.status_code == 409 and repeat:
                continue  # terminated meanwhile: intake refuses, as it should
            response.raise_for_status()
            if not repeat:
                plan.case_id = response.json()["case_id"]
            self._step("登记 registering", n, len(submissions), every=200)

    async def _take_up(
        self, http: httpx.AsyncClient, plans: list[Plan], limit_s: float = 300
    ) -> None:
        """Cases reach assignment through NATS; wait until every one has."""
        headers = self._headers("petition_office")
        waiting = [p for p in plans if p.case_id]
        total = len(waiting)
        deadline = time.monotonic() + limit_s
        while waiting:
            still = []
            for plan in waiting:
                response = await http.get(
                    f"{self._assignment}/api/v1/cases/{plan.case_id}", headers=headers
                )
                if response.status_code != 200 or response.json()["state"] == "registered":
                    still.append(plan)
            waiting = still
            if waiting:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{len(waiting)} cases did not reach assignment through NATS"
                    )
                if self._progress is not None:
                    self._progress("等待交办 reaching assignment", total - len(waiting), total)
                else:
                    self._say(
                        f"演示：等待交办 demo: waiting for {len(waiting)} cases to reach assignment"
                    )
                await asyncio.sleep(2)
        if self._progress is not None:
            self._progress("等待交办 reaching assignment", total, total)

    async def _act(self, http: httpx.AsyncClient, plans: list[Plan]) -> int:
        headers = self._headers("importer")
        semaphore = asyncio.Semaphore(8)
        done = 0
        total = sum(len(p.acts) for p in plans)
        self._say(f"演示：办理 demo: {total} workflow acts ...")

        async def story(plan: Plan) -> None:
            nonlocal done
            async with semaphore:
                for moment, name, body in sorted(plan.acts, key=lambda a: a[0]):
                    response = await http.post(
                        f"{self._assignment}/api/v1/cases/{plan.case_id}/{name}",
                        json=body | {"occurred_at": moment.isoformat()},
                        headers=headers,
                    )
                    if response.status_code >= 400:
                        raise RuntimeError(
                            f"{name} on {plan.case_id}: {response.status_code} {response.text}"
                        )
                    done += 1
                    self._step("办理 workflow acts", done, total, every=1000)

        await asyncio.gather(*(story(p) for p in plans if p.case_id))
        return done


class _RetryUnavailable(httpx.AsyncBaseTransport):
    """A client that does what a 503 asks: the services answer 503 with Retry-After while
    PostgreSQL is briefly out of reach (a busy or restarting server), so try again a few times
    after the time it names instead of abandoning the whole load."""

    def __init__(self, inner: httpx.AsyncBaseTransport, attempts: int = 5) -> None:
        self._inner = inner
        self._attempts = attempts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(self._attempts - 1):
            response = await self._inner.handle_async_request(request)
            if response.status_code != 503:
                return response
            await response.aclose()
            try:
                delay = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                delay = 1.0
            await asyncio.sleep(min(max(delay, 0.1), 5.0))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
