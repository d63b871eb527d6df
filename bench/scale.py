"""Scale benchmark (issue 17): the read side and the log at a given number of cases, each figure
beside the raw PostgreSQL read of the same events table in the same run.

`python -m bench scale [--cases N] [--reuse DSN]` (``BENCH_SCALE_CASES`` in `make bench`). The log
is the reporting benchmark's cases (:func:`bench.reporting.story_groups`), loaded by
:mod:`bench.loader` (COPY; every event sealed and chained by the store's own code), then a few
erasures and one case of 200 events through the ordinary append path. Then, the file saved after
each phase:

* ``raw_read_rows_per_s`` (and ``..._after``, at the end): SELECT * of the events table in
  position order, 5,000 rows a batch;
* ``rebuild_eps`` / ``rebuild_peak_rss_mb``: `python -m reporting.projections rebuild` in a
  process of its own, its log split over ``rebuild_parts`` processes as the command does by
  default (one per core); the peak is the sum of every process's own peak resident set (VmHWM),
  ``rebuild_parent_peak_rss_mb`` the rebuilding process's alone;
* p50/p95 of the report endpoints (:func:`bench.reporting._endpoint_figures`) and of the audit
  timeline of a case of 200 events;
* ``read_all_decoded_eps``: the ordered, decoded read (:meth:`EventStore.iter_all`, keyless);
* ``verify_all_eps``: every stream's hash chain (:meth:`EventStore.verify_all`).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from petitions.db import create_pool
from petitions.eventstore import EventStore, NewEvent, PersonalData
from petitions.messages import assignment as a
from petitions.personal import BlindIndex, DataKeys, LocalKeyService
from petitions.runtime import tune_gc
from petitions.settings import CommonSettings

from bench.eventstore import compare_1kb
from bench.loader import CHUNK_CASES, load, new_secrets, restore_indexes
from bench.reporting import (
    ENDPOINT_CALLS,
    META,
    READ_POOL_SIZE,
    SUB_BUREAUS,
    XLSX_CALLS,
    _endpoint_figures,
    _fresh_database,
    _machine_busy,
    _raw_read,
    span_days,
)
from bench.servers import ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
CASES = int(os.environ.get("BENCH_SCALE_CASES", "12000"))
AUDIT_EVENTS = 200
TARGETS = {
    "rebuild_eps": 60_000,
    "verify_all_eps": 100_000,
    "read_all_decoded_eps": 100_000,
    "read_all_decoded_1kb_eps": 100_000,
    "verify_all_1kb_eps": 100_000,
    "rebuild_peak_rss_mb": 500,
}


async def _long_case(
    store: EventStore, stream_id: str, version: int, subject: uuid.UUID | None = None
) -> None:
    """Weekly progress on one case until its stream holds AUDIT_EVENTS events."""
    case_id = uuid.UUID(stream_id.removeprefix("case-"))
    # The notes are sealed under the first petitioner's key, as the workflow seals them.
    if subject is None:
        subject = (await store.read_stream(stream_id, 1, 1, reveal=False))[0].data.subject_id
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)
    events = []
    for k in range(AUDIT_EVENTS - version):
        on = (day + timedelta(days=7 * k)).date()
        iso = on.isocalendar()
        event = a.ProgressRecorded(
            subject_id=subject,
            case_id=case_id,
            week=f"{iso.year}-W{iso.week:02d}",
            note="持续跟进，已再次约谈信访人。",
            recorded_on=on,
        )
        events.append(NewEvent(event, bureau="3301", occurred_at=day + timedelta(days=7 * k)))
    for start in range(0, len(events), 50):
        batch = events[start : start + 50]
        await store.append(stream_id, batch, version, metadata=META)
        version += len(batch)


def _xlsx_plan(cases: int, first: date, last: date, as_of: date) -> list[dict[str, Any]]:
    """Ledger exports of about 10,000 rows: a window of first-received days sized to the log
    (its cases arrive evenly from ``first`` to ``last``), at places spread over it."""
    span = (last - first).days + 1
    days = max(1, min(span, round(10_000 / (cases / span))))
    calls = []
    for k in range(XLSX_CALLS):
        start = first + timedelta(days=(k * max(1, span - days)) // XLSX_CALLS)
        params = {
            "as_of": as_of.isoformat(),
            "received_from": start.isoformat(),
            "received_to": (start + timedelta(days=days - 1)).isoformat(),
        }
        calls.append({"path": "ledger.xlsx", "params": params})
    return calls


def _spread(items: list[Any], k: int, n: int) -> Any:
    """The k-th of n picks spread evenly over ``items``."""
    return items[(k * len(items)) // n]


def _plan(first: date, last: date) -> tuple[dict[str, list[dict[str, Any]]], datetime]:
    """Each endpoint's calls with parameters spread over the log's span (``first`` to ``last``
    case first received), and the services' clock: a month after the last case arrived. A
    report of a period reads that period's cases: a decade's log must not slow a month's."""
    n = ENDPOINT_CALLS
    today = last + timedelta(days=30)
    now = datetime(today.year, today.month, today.day, 2, tzinfo=UTC)
    years = list(range(first.year, last.year + 1))
    months: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    weeks = [first + timedelta(days=7 * w) for w in range((last - first).days // 7 + 1)]

    def week_label(day: date) -> str:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    def month_label(day: date) -> str:
        return f"{day.year}-{day.month:02d}"

    plan: dict[str, list[dict[str, Any]]] = {
        "figures_city_year": [
            {
                "path": "figures",
                "params": {
                    "year": str(years[k % len(years)]),
                    "as_of": f"{years[k % len(years)] + 1}-01-{1 + k % 28:02d}",
                },
            }
            for k in range(n)
        ],
        "figures_sub_bureau_month": [
            {
                "path": "figures",
                "params": {
                    "month": month_label(_spread(months, k, n)),
                    "bureau": SUB_BUREAUS[k % len(SUB_BUREAUS)],
                    "as_of": today.isoformat(),
                },
            }
            for k in range(n)
        ],
        "ledger_first_page": [
            {"path": "ledger", "params": {"as_of": (today - timedelta(days=k % 28)).isoformat()}}
            for k in range(n)
        ],
        "ledger_filtered_page": [
            {
                "path": "ledger",
                "params": {
                    "sub_bureau": SUB_BUREAUS[k % len(SUB_BUREAUS)],
                    "open": "true",
                    "received_from": _spread(months, k, n).isoformat(),
                    "as_of": today.isoformat(),
                    "offset": 50 * (k % 3),
                },
            }
            for k in range(n)
        ],
        "weekly_bulletin": [
            {"path": f"weekly/{week_label(_spread(weeks, k, n))}", "params": {}} for k in range(n)
        ],
        "monthly_analysis": [
            {"path": f"monthly/{month_label(_spread(months, k, n))}", "params": {}}
            for k in range(n)
        ],
        "accompany_roster": [
            {"path": "accompany-roster", "params": {"month": month_label(_spread(months, k, n))}}
            for k in range(n)
        ],
    }
    return plan, now


async def _decoded_read(store: EventStore) -> float:
    started = time.perf_counter()
    count = 0
    async for batch in store.iter_all(reveal=False):
        count += len(batch)
    return count / (time.perf_counter() - started)


async def _verify_all(store: EventStore, events: int) -> float:
    started = time.perf_counter()
    results = await store.verify_all()
    seconds = time.perf_counter() - started
    if not all(r.ok for r in results):
        raise RuntimeError("a hash chain failed to verify")
    return events / seconds


# Another reporting source tree (its `src` folder) to run a second rebuild with, on the same log
# in the same run: before/after comparisons in the same conditions.
COMPARE_WITH = os.environ.get("BENCH_SCALE_COMPARE_WITH")
# BENCH_SCALE_KEEP=1 keeps the loaded database (on servers named by the environment) for
# EXPLAIN ANALYZE and profiles afterwards.
KEEP = os.environ.get("BENCH_SCALE_KEEP") == "1"


# The child reports its own high-water mark (VmHWM of its address space) at exit: the rusage of
# wait4 would not do, as its ru_maxrss counts the pages the child shared with this process
# (which holds the whole generated log) between fork and exec.
_REBUILD = (
    "import atexit, os, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        line = next(l for l in status if l.startswith('VmHWM:'))\n"
    "    with open(os.environ['BENCH_PEAK_FILE'], 'w') as out:\n"
    "        out.write(line.split()[1])\n"
    "atexit.register(peak)\n"
    "sys.argv = ['reporting.projections', 'rebuild', '--no-progress']\n"
    "runpy.run_module('reporting.projections', run_name='__main__')\n"
)


def _rebuild_process(dsn: str, source: str | None = None) -> dict[str, Any]:
    """`python -m reporting.projections rebuild` as an operator runs it, and its peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        env = {**os.environ, "PETITIONS_DATABASE_URL": dsn, "BENCH_PEAK_FILE": peak.name}
        env.pop("PETITIONS_REPORTING_DATABASE_URL", None)
        if source:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        done = subprocess.run(
            [sys.executable, "-c", _REBUILD], env=env, cwd=ROOT, stdout=subprocess.PIPE, check=True
        )
        result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        # A rebuild split over processes (reporting.projections.parts): theirs count too.
        result["parent_peak_rss_mb"] = round(int(peak.read()) / 1024, 1)  # VmHWM is in KiB
        result["peak_rss_mb"] = round(
            result["parent_peak_rss_mb"] + result.get("parts_peak_rss_mb", 0.0), 1
        )
    return result


async def _loaded(dsn: str, cases: int) -> None:
    """Load the log (COPY), then what the append path adds: erasures, one 200-event case."""
    pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=2, db_pool_max=8))
    try:
        span = span_days(max(1, -(-cases // CHUNK_CASES)) * CHUNK_CASES)
        secrets = new_secrets(span=span)
        keys = PersonalData(
            DataKeys(pool, LocalKeyService(secrets.kek)), BlindIndex(secrets.blind_index)
        )
        store = EventStore(pool, personal=keys)
        print(
            f"  loading about {cases:,} cases over {span:,} days "
            f"(COPY, {os.cpu_count()} builders) ..."
        )
        loaded = await load(dsn, cases, secrets)
        for subject in loaded["erase"]:
            await store.erase_subject(subject, reason="本人申请删除", metadata=META)
        first_stream, first_events = loaded["first_case"]
        await _long_case(store, first_stream, first_events)
        # As autovacuum would soon after a bulk load: hint bits set and statistics known, so
        # the first timed read does not pay for them.
        await pool.execute("VACUUM (ANALYZE) eventstore.events")
        print(f"  loaded in {loaded['seconds']} s, load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        await pool.close()


def _load_main(dsn: str, cases: int) -> None:
    tune_gc()
    asyncio.run(_loaded(dsn, cases))


def _load_elsewhere(dsn: str, cases: int) -> None:
    """:func:`_loaded` in a process of its own: the process that built the log still held
    9.9 GB resident afterwards (1,000,000 cases), which the page cache then lacked for the rest
    of the run, and every later figure was measured in that process."""
    process = multiprocessing.get_context("spawn").Process(target=_load_main, args=(dsn, cases))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"loading the log failed (exit code {process.exitcode}); see above")


async def _finish_interrupted(dsn: str) -> None:
    """A load stopped half way (its chunks are whole transactions) lacks what `_loaded` adds
    after the chunks. The KEK it sealed under died with it, so the 200-event case's notes are
    sealed under a new subject's key (a new KEK); erasures only destroy keys and need none."""
    pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=2, db_pool_max=8))
    try:
        owner = await asyncpg.connect(dsn)  # the pool's connections take the service's role
        try:
            await restore_indexes(owner)
        finally:
            await owner.close()
        if await pool.fetchval(
            "SELECT 1 FROM eventstore.streams WHERE version >= $1 LIMIT 1", AUDIT_EVENTS
        ):
            return
        print("  finishing an interrupted load ...", flush=True)
        secrets = new_secrets()
        keys = PersonalData(
            DataKeys(pool, LocalKeyService(secrets.kek)), BlindIndex(secrets.blind_index)
        )
        store = EventStore(pool, personal=keys)
        erase = await pool.fetch(
            "SELECT subject_id FROM personal.data_keys WHERE subject_id = ANY($1::uuid[]) "
            "AND wrapped IS NOT NULL ORDER BY subject_id LIMIT 3",
            secrets.petitioners,
        )
        for row in erase:
            await store.erase_subject(row[0], reason="本人申请删除", metadata=META)
        first = await pool.fetchrow(
            "SELECT stream_id, version FROM eventstore.streams WHERE category = 'case' "
            "ORDER BY stream_id LIMIT 1"
        )
        await _long_case(store, first[0], first[1], uuid.uuid4())
        await pool.execute("VACUUM (ANALYZE) eventstore.events")
    finally:
        await pool.close()


async def measure(dsn: str, save: Any) -> dict[str, Any]:
    """Every figure on the loaded database at ``dsn``; ``save(figures)`` after each phase (a
    run stopped half way keeps what it measured). The read models first (the endpoints need
    them), the raw ceiling before and after, each phase with the machine's load beside it."""
    from reporting.projections import create_read_pool, migrate

    pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=2, db_pool_max=8))
    keyless = EventStore(pool)
    figures: dict[str, Any] = {
        "events": int(await pool.fetchval("SELECT count(*) FROM eventstore.events")),
        "machine_busy_before": await _machine_busy(),
        "load_average": os.getloadavg(),
    }
    loads: dict[str, float] = {}
    figures["load_average_by_phase"] = loads

    def done(phase: str) -> None:
        loads[phase] = round(os.getloadavg()[0], 1)
        save(figures)

    try:
        long_case = await pool.fetchval(
            "SELECT stream_id FROM eventstore.streams WHERE version >= $1 LIMIT 1", AUDIT_EVENTS
        )
        case_number = await pool.fetchval(
            "SELECT data->>'case_number' FROM eventstore.events "
            "WHERE stream_id = $1 AND version = 1",
            long_case,
        )
        print("  measuring raw_read_rows_per_s ...", flush=True)
        figures["raw_read_rows_per_s"] = round(await _raw_read(dsn))
        done("raw_read")
        await migrate(dsn, role="petitions_app")
        print("  measuring the rebuild (a process of its own) ...", flush=True)
        rebuilt = await asyncio.to_thread(_rebuild_process, dsn)
        figures["rebuild_eps"] = rebuilt["eps"]
        figures["rebuild_seconds"] = rebuilt["seconds"]
        figures["rebuild_peak_rss_mb"] = rebuilt["peak_rss_mb"]
        figures["rebuild_parts"] = rebuilt.get("parts", 1)
        figures["rebuild_parent_peak_rss_mb"] = rebuilt["parent_peak_rss_mb"]
        figures["rebuild_phases_s"] = rebuilt.get("phases", {})
        done("rebuild")
        if COMPARE_WITH:
            other = await asyncio.to_thread(_rebuild_process, dsn, COMPARE_WITH)
            figures["rebuild_compared"] = {"source": COMPARE_WITH, **other}
            done("rebuild_compared")
        read_pool = await create_read_pool(dsn, role="petitions_app", max_size=READ_POOL_SIZE)
        try:
            figures["cases"] = await read_pool.fetchval("SELECT count(*) FROM cases")
            span = await read_pool.fetchrow(
                "SELECT min(first_received_at AT TIME ZONE 'Asia/Shanghai')::date AS first, "
                "max(first_received_at AT TIME ZONE 'Asia/Shanghai')::date AS last FROM cases"
            )
            figures["first_received"] = span["first"].isoformat()
            figures["last_received"] = span["last"].isoformat()
            plan, now = _plan(span["first"], span["last"])
            plan["ledger_xlsx_10k_rows"] = _xlsx_plan(
                figures["cases"], span["first"], span["last"], now.date()
            )
            plan["audit_timeline_200_events"] = [
                {"path": f"/api/v1/audit/cases/{case_number}/timeline", "params": {}}
                for _ in range(ENDPOINT_CALLS)
            ]
            figures["machine_busy_before_endpoints"] = await _machine_busy()
            figures.update(await _endpoint_figures(read_pool, plan, keyless, now))
            done("endpoints")
        finally:
            await read_pool.close()
        print("  measuring read_all_decoded_eps, verify_all_eps ...", flush=True)
        figures["read_all_decoded_eps"] = round(await _decoded_read(keyless))
        done("read_all_decoded")
        figures["verify_all_eps"] = round(await _verify_all(keyless, figures["events"]))
        done("verify_all")
        figures["raw_read_rows_per_s_after"] = round(await _raw_read(dsn))
        done("raw_read_after")
    finally:
        await pool.close()
    return figures


async def _one_kb_events(admin_url: str, figures: dict[str, Any], save: Any) -> None:
    """The ordered read and verify_all on events of ~1 KB beside the eventsourcing library's
    read of the same events, each beside its table's raw SELECT (the event store benchmark's
    section 4, in this run: the scale log's events are ~320 B)."""
    admin = await asyncpg.connect(admin_url)
    databases: list[str] = []
    try:
        print("  measuring the ~1 KB event read beside the eventsourcing library ...", flush=True)
        figures.update(await compare_1kb(admin, admin_url, databases))
        save(figures)
    finally:
        for dsn in databases:
            await admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')
        await admin.close()


async def run(admin_url: str, cases: int, save: Any, reuse: str | None = None) -> dict[str, Any]:
    if reuse:  # a database a kept run loaded (BENCH_SCALE_KEEP=1), maybe stopped half way
        await _finish_interrupted(reuse)
        figures = await measure(reuse, save)
        await _one_kb_events(admin_url, figures, save)
        return figures
    admin = await asyncpg.connect(admin_url)
    dsn = await _fresh_database(admin, admin_url, "bench_scale")
    try:
        started = time.perf_counter()
        await asyncio.to_thread(_load_elsewhere, dsn, cases)
        load_seconds = round(time.perf_counter() - started, 1)
        figures = await measure(dsn, save)
        figures["load_seconds"] = load_seconds
        await _one_kb_events(admin_url, figures, save)
        return figures
    finally:
        if KEEP:
            print(f"  kept the database for a closer look (drop it afterwards): {dsn}")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')
        await admin.close()


def report(figures: dict[str, Any]) -> None:
    raw = figures["raw_read_rows_per_s"]
    print(f"\n{figures['cases']:,} cases, {figures['events']:,} events")
    print(f"{'figure':36} {'measured':>12}  {'target':>10}  raw SELECT {raw:,} rows/s")
    for name, target in TARGETS.items():
        if name not in figures:
            continue
        value = figures[name]
        met = value <= target if name.endswith("_mb") else value >= target
        print(f"{name:36} {value:>12,}  {target:>10,}  {'met' if met else 'MISSED'}")
    for name, value in figures.items():
        if isinstance(value, dict) and "p50_ms" in value:
            print(f"{name + ' p50 / p95 ms':36} {value['p50_ms']:>12} / {value['p95_ms']}")
    print(f"raw SELECT after the rest: {figures.get('raw_read_rows_per_s_after', 0):,} rows/s")
    if "eventsourcing_read_decoded_1kb_eps" in figures:
        print(
            f"~1 KB events: ours {figures['read_all_decoded_1kb_eps']:,}/s decoded, "
            f"eventsourcing {figures['eventsourcing_read_decoded_1kb_eps']:,}/s; raw SELECT "
            f"{figures['raw_read_1kb_rows_per_s']:,} / "
            f"{figures['eventsourcing_raw_read_1kb_rows_per_s']:,} rows/s"
        )
    print(
        f"machine busy before: {figures['machine_busy_before']:.0%}, load {figures['load_average']}"
        f"; load average after each phase: {figures.get('load_average_by_phase')}"
    )


def main(admin_url: str, _nats_url: str, argv: list[str] | None = None) -> dict[str, Any]:
    args = argv if argv is not None else []
    cases = int(args[args.index("--cases") + 1]) if "--cases" in args else CASES
    reuse = args[args.index("--reuse") + 1] if "--reuse" in args else None
    out = Path(os.environ.get("BENCH_SCALE_RESULTS", RESULTS))
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(figures: dict[str, Any]) -> None:
        figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")

    print(f"== scale benchmark 规模基准 ({reuse or f'{cases:,} cases'})")
    figures = asyncio.run(run(admin_url, cases, save, reuse))
    save(figures)
    report(figures)
    print(f"written to {out}")
    return figures
