"""Demo history: two years of a city bureau with 24 sub-bureaus, loaded through the public APIs.

Nothing is written into tables: every case is registered at intake and taken through its
workflow at assignment over HTTP, exactly as people would, with tokens of the import role
(数据导入), the only role that may date an act in the past. Reporting then builds the ledger,
bulletins and analyses from the events like any other day. Every event keeps its recorded time
(when the demo was loaded) beside the occurred time it was given.

The numbers follow the seed report's shape: about 900 matters and 1,100 submissions over two
years, a third of sub-bureaus with no petitions to the city bureau, a closure rate in the
nineties, most cases replied within their statutory periods, some repeats after a reply,
leader-owned and People's Congress cases, and the seed's practices beginning seven months
before the day of loading (``practices_since``). The history itself is planned in
``devstack.demo_plan``, dated relative to an injectable now.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from devstack.demo_plan import CITY, SHANGHAI, Plan, Planner, local_day, resident_id

__all__ = ["CITY", "Demo", "Plan", "practices_env", "resident_id"]

_MISSED = ("参加会议 meeting",) * 6 + ("病假 illness",)
PRACTICES_FILE = "demo-practices-since"


def practices_env(data: Path, now: datetime | None = None) -> dict[str, str]:
    """``PETITIONS_PRACTICES_SINCE`` for the demo city: the day its history begins the seed's
    practices. Chosen when the demo is first loaded (seven months back, see ``demo_plan``) and
    kept in the data folder, so a stack started again months later still points at the day its
    history changed. An operator's own setting wins."""
    path = data / PRACTICES_FILE
    if path.is_file():
        since = date.fromisoformat(path.read_text().strip())
    else:
        now = now or datetime.now(UTC)
        since = Planner([], now).practices_since
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(since.isoformat() + "\n")
    return {"PETITIONS_PRACTICES_SINCE": json.dumps({CITY: since.isoformat()})}


class Demo:
    def __init__(
        self,
        intake: str,
        assignment: str,
        token: Callable[[str, str, str], str],
        sub_bureaus: list[str],
        *,
        today: date | None = None,
        now: datetime | None = None,
        years: int = 2,
        scale: float = 1.0,
        say: Callable[[str], None] = print,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        """``now`` (or ``today``, then noon of it in Shanghai) anchors the whole history; the
        real now when neither is given."""
        self._intake = intake
        self._assignment = assignment
        self._token = token
        if now is None:
            now = (
                datetime.now(UTC)
                if today is None
                else datetime(today.year, today.month, today.day, 12, tzinfo=SHANGHAI)
            )
        self._planner = Planner(sub_bureaus, now, years=years, scale=scale)
        self._now = now
        self._today = local_day(now)
        self._first = self._planner.first
        self._rng = self._planner.rng
        self._say = say
        self._progress = progress
        self._subs = sub_bureaus
        self._plans: list[Plan] | None = None

    @property
    def practices_since(self) -> date:
        return self._planner.practices_since

    def plan(self, subs: list[str] | None = None) -> list[Plan]:
        """The history, planned once (the sub-bureaus are the constructor's)."""
        del subs
        if self._plans is None:
            self._plans = self._planner.plan()
        return self._plans

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
            plans = self.plan()
            held = await self._reception(http)
            # The periodic sweep runs meanwhile: an open import batch keeps it off the cases
            # until their whole history is in (else every case would look overdue at first).
            opened = await http.post(
                f"{self._assignment}/api/v1/imports",
                json={"label": "演示数据 demo history"},
                headers=self._headers("importer"),
            )
            opened.raise_for_status()
            try:
                await self._register(http, plans, held)
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

    async def _reception(self, http: httpx.AsyncClient) -> dict[tuple[str, date], str]:
        """The reception days of the two years, the city's (a leader every working day, the
        chief on Wednesdays) and each sub-bureau head's (Wednesdays), held, or missed with a
        reason (the city chief's as the seed counts them). Returns the session held per bureau
        and day, the chief's on a Wednesday."""
        headers = self._headers("petition_office")
        sessions: list[dict[str, Any]] = []
        for bureau in [CITY, *self._subs]:
            start = self._first
            place = "市局信访接待大厅" if bureau == CITY else "分县局信访接待室"
            while start < self._today:
                end = min(start + timedelta(days=360), self._today - timedelta(days=1))
                period = {"first": start.isoformat(), "last": end.isoformat()}
                response = await http.post(
                    f"{self._intake}/api/v1/reception/schedule",
                    json={"bureau": bureau, "place": place} | period,
                    headers=headers,
                )
                response.raise_for_status()
                sessions.extend(response.json())
                start = end + timedelta(days=1)
        sessions.sort(key=lambda s: (s["day"], s["bureau"], s["leader_id"]))
        chief_days = [s for s in sessions if s["chief_day"] and s["bureau"] == CITY]
        missed = {s["session_id"] for s in self._rng.sample(chief_days, k=min(7, len(chief_days)))}
        reasons = iter(_MISSED)
        # Decided before any is sent, in a fixed order: the same sessions are missed each time.
        closing: list[tuple[dict[str, Any], str, dict[str, str]]] = []
        held: dict[tuple[str, date], str] = {}
        for session in sessions:
            sid = session["session_id"]
            if sid in missed:
                closing.append((session, "missed", {"reason": next(reasons)}))
            elif self._rng.random() < 0.03:
                closing.append((session, "missed", {"reason": "参加会议 meeting"}))
            else:
                closing.append((session, "held", {"held_by": session["leader_name"]}))
                key = (session["bureau"], date.fromisoformat(session["day"]))
                if session["chief_day"] or key not in held:
                    held[key] = sid
        self._say(f"演示：接访日 demo: {len(sessions)} reception sessions")
        semaphore = asyncio.Semaphore(8)
        closed = 0

        async def close(session: dict[str, Any], url: str, body: dict[str, str]) -> None:
            nonlocal closed
            async with semaphore:
                response = await http.post(
                    f"{self._intake}/api/v1/reception/sessions/{session['session_id']}/{url}",
                    json=body,
                    headers=headers,
                )
                response.raise_for_status()
                closed += 1
                self._step("接访日 reception days", closed, len(sessions), every=10**9)

        await asyncio.gather(*(close(*c) for c in closing))
        return held

    async def _register(
        self, http: httpx.AsyncClient, plans: list[Plan], held: dict[tuple[str, date], str]
    ) -> None:
        headers = self._headers("importer")
        submissions = sorted(
            [(p.received_at, p, False) for p in plans]
            + [(t, p, True) for p in plans for t in p.repeats],
            key=lambda item: item[0],
        )
        self._say(f"演示：登记 demo: registering {len(submissions)} submissions ...")
        for n, (moment, plan, repeat) in enumerate(submissions, 1):
            body = dict(plan.body, received_at=moment.isoformat())
            session = held.get((plan.body["receiving_bureau"], local_day(moment)))
            if plan.at_reception and not repeat and session is not None:
                body["reception_session_id"] = session  # seen by the leader on duty
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
