"""Intake benchmark: one intake process (`python -m intake`, as `make up` starts it) on a fresh
database, driven over HTTP at fixed open-loop rates while a NATS subscriber watches for each
registration's ``intake.SubmissionReceived`` event arriving through the relay.

Figures: the latency from sending the registration request to the event's arrival on NATS (p50,
p99) at 50/s and 200/s, the highest rate that holds (a ramp), the process's peak resident memory,
and beside them the raw INSERT ceiling of the same PostgreSQL server, measured in the same run.

Every request registers a new case (a distinct petitioner each time), spread over the demo city's
sub-bureaus with a registrar's token for each, as a city's intake sees them. Sends leave on a
fixed schedule whatever the answers (open loop), over at most CONNECTIONS keep-alive connections;
a request's clock starts before it waits for one. Intake, PostgreSQL, NATS and this client share
the machine: each step records the CPU each used, and how busy the machine was before the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import nats
from nats.aio.msg import Msg
from petitions.bureaus import load_config
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.personal import generate_key

from bench.eventstore import _fresh_database, _raw_insert
from bench.servers import ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "intake.json"
BUREAU_CONFIG = ROOT / "deploy/config/bureaus.demo.toml"
SUBJECTS = "petitions.events.>"
RECEIVED = "intake.SubmissionReceived"
SHANGHAI = ZoneInfo("Asia/Shanghai")

LATENCY_SECONDS = 15.0  # the two latency figures (50/s and 200/s)
STEP_SECONDS = 10.0  # each further step of the ramp
LATENCY_RATES = (50, 200)
RAMP = (50, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000)
"""Rates of the ramp, in order, until one does not hold; 50 and 200 are the latency phases
themselves (200/s is measured even if the ramp stopped below it)."""
HOLD_P99_S = 1.0
HOLD_SHARE = 0.9
REQUEST_TIMEOUT = 10.0
CONNECTIONS = 32  # keep-alive connections of the client, at most this many requests in flight
DRAIN_SECONDS = 10.0  # how long to wait after a phase for events still on their way
TARGET_P99_MS_AT_50 = 50.0
TARGET_RSS_MB = 150.0
HEADLINE = (
    "p50_ms_at_50",
    "p99_ms_at_50",
    "p50_ms_at_200",
    "p99_ms_at_200",
    "max_sustained_rps",
    "peak_rss_mb",
    "raw_insert_8_writers_tps",
    "measured_at",
)


# ------------------------------------------------------------------------------------ requests


def resident_id(body17: str) -> str:
    """Complete 17 digits with their GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def _petitioner(n: int, bureau: str) -> dict[str, str]:
    """The n-th distinct petitioner: a birth date and sequence number no other request has."""
    born = date(1950, 1, 1) + timedelta(days=n // 999)
    return {
        "name": "张三",
        "resident_id": resident_id(f"{bureau}{born:%Y%m%d}{n % 999 + 1:03d}"),
        "phone": f"138{n % 100_000_000:08d}",
        "address": "临江市上城区解放路1号",
    }


@dataclass
class Requests:
    """Pre-built request bodies and headers, so the client spends its time sending."""

    bureaus: tuple[str, ...]
    tokens: dict[str, dict[str, str]]
    issued: int = 0

    def take(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        received_at = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=1)
        out = []
        for _ in range(count):
            n = self.issued
            self.issued += 1
            bureau = self.bureaus[n % len(self.bureaus)]
            body = {
                "channel": "visit",
                "received_at": received_at.isoformat(),
                "receiving_bureau": bureau,
                "receiving_officer": "王警官",
                "petitioners": [_petitioner(n, bureau)],
                "head_count": 1,
                "category": "SQ01",
                "sub_bureau": bureau,
                "summary": "反映邻居噪音扰民，派出所处理不及时",
                "requests": "要求依法处理",
            }
            out.append((json.dumps(body, ensure_ascii=False).encode(), self.tokens[bureau]))
        return out


# ------------------------------------------------------------------------------------ process


def _quiet_httpcore() -> None:
    """httpcore asks ``import sniffio`` which async library runs, several times per request; when
    sniffio is not installed (anyio no longer needs it) each failed import searches the whole
    sys.path, about a quarter of this client's CPU. A None in sys.modules fails it at once, and
    httpcore then assumes asyncio, which is what runs here."""
    if importlib.util.find_spec("sniffio") is None:
        # typeshed types sys.modules without None, though a None there is what blocks an import.
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kb(pid: int, key: str = "VmRSS") -> int:
    """A figure of /proc/<pid>/status in kB (VmRSS now, VmHWM the peak so far); 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    peak_rss_kb: int = 0

    def sample(self) -> None:
        self.peak_rss_kb = max(self.peak_rss_kb, _rss_kb(self.proc.pid))

    def peak_mb(self) -> float:
        # VmHWM is the kernel's own high-water mark: it catches peaks between samples.
        peak = max(self.peak_rss_kb, _rss_kb(self.proc.pid, "VmHWM"))
        return round(peak / 1024, 1)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def intake_process(env: dict[str, str], log: Path) -> Iterator[Service]:
    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake"],
            env={**env, "PETITIONS_HTTP_PORT": str(port), "PETITIONS_HTTP_HOST": "127.0.0.1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    service = Service(proc, f"http://127.0.0.1:{port}", log)
    try:
        yield service
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _ready(service: Service, client: httpx.AsyncClient) -> None:
    """Wait until the service answers healthy with its relay leading."""
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(f"intake exited with {service.proc.returncode}:\n{service.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            response = await client.get("/health")
            body = response.json()
            if response.status_code == 200 and body.get("relay") == "active":
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"intake not ready within 60 s ({body}):\n{service.tail()}")


# ------------------------------------------------------------------------------------ phases


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (the value below which a share q of the values lie)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Phase:
    rate: int
    seconds: float
    sent: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    send_at: dict[str, float] = field(default_factory=dict)  # stream -> send time
    response_at: dict[str, float] = field(default_factory=dict)
    lag: list[float] = field(default_factory=list)  # how late each send left vs its schedule
    started: float = 0.0
    usage: dict[str, float] = field(default_factory=dict)

    def figures(self, arrivals: dict[str, float]) -> dict[str, Any]:
        e2e = [arrivals[s] - t for s, t in self.send_at.items() if s in arrivals]
        http = [self.response_at[s] - t for s, t in self.send_at.items()]
        relay = [arrivals[s] - self.response_at[s] for s in self.send_at if s in arrivals]
        lost = len(self.send_at) - len(e2e)
        last = max((arrivals[s] for s in self.send_at if s in arrivals), default=self.started)
        elapsed = max(last - self.started, self.seconds)
        ms = 1000.0

        def q(values: list[float], p: float) -> float | None:
            return round(_quantile(values, p) * ms, 1) if values else None

        return {
            "rate": self.rate,
            "sent": self.sent,
            "errors": self.errors + lost,
            "error_kinds": dict(self.statuses, **({"no_event": lost} if lost else {})),
            "achieved_rps": round(len(e2e) / elapsed, 1),
            "p50_ms": q(e2e, 0.5),
            "p99_ms": q(e2e, 0.99),
            "max_ms": q(e2e, 1.0),
            "http_p50_ms": q(http, 0.5),
            "http_p99_ms": q(http, 0.99),
            "relay_p50_ms": q(relay, 0.5),
            "relay_p99_ms": q(relay, 0.99),
            "send_lag_p99_ms": q(self.lag, 0.99),
            **self.usage,
        }


async def _phase(
    client: httpx.AsyncClient,
    requests: Requests,
    arrivals: dict[str, float],
    service: Service,
    rate: int,
    seconds: float,
) -> dict[str, Any]:
    """Send at ``rate`` per second for ``seconds`` on a fixed schedule (open loop), then wait for
    the answers and the events still on their way."""
    count = round(rate * seconds)
    prepared = requests.take(count)
    phase = Phase(rate, seconds)

    async def one(body: bytes, headers: dict[str, str]) -> None:
        sent = time.perf_counter()
        try:
            # The whole exchange, the wait for a connection included, counts.
            async with asyncio.timeout(REQUEST_TIMEOUT), in_flight:
                response = await client.post("/api/v1/submissions", content=body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            phase.errors += 1
            kind = type(exc).__name__
            phase.statuses[kind] = phase.statuses.get(kind, 0) + 1
            return
        done = time.perf_counter()
        if response.status_code != 201:
            phase.errors += 1
            kind = str(response.status_code)
            phase.statuses[kind] = phase.statuses.get(kind, 0) + 1
            return
        stream = f"case-{response.json()['case_id']}"
        phase.send_at[stream] = sent
        phase.response_at[stream] = done

    tasks: list[asyncio.Task[None]] = []
    # Requests beyond the connections wait here rather than in httpx's pool, whose queue is
    # scanned on every completion: under a backlog that made the client, not the service, the
    # bottleneck (most of a core spent in the pool).
    in_flight = asyncio.Semaphore(CONNECTIONS)
    cpu0, own0, (busy0, total0) = (
        _cpu_seconds(service.proc.pid),
        time.process_time(),
        _machine_jiffies(),
    )
    phase.started = time.perf_counter()
    for i, (body, headers) in enumerate(prepared):
        due = phase.started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        phase.lag.append(max(0.0, time.perf_counter() - due))
        tasks.append(asyncio.create_task(one(body, headers)))
        phase.sent += 1
        if i % 50 == 0:
            service.sample()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - phase.started
    cpu = _cpu_seconds(service.proc.pid) - cpu0
    busy1, total1 = _machine_jiffies()
    phase.usage = {
        # Cores in use while sending and answering: intake, this client, the whole machine.
        "intake_cpu_cores": round(cpu / wall, 2),
        "client_cpu_cores": round((time.process_time() - own0) / wall, 2),
        "machine_busy": round((busy1 - busy0) / max(1, total1 - total0), 2),
        "intake_cpu_ms_per_registration": round(1000 * cpu / max(1, len(phase.send_at)), 2),
    }
    for _ in range(round(DRAIN_SECONDS / 0.05)):
        if all(s in arrivals for s in phase.send_at):
            break
        await asyncio.sleep(0.05)
    service.sample()
    return phase.figures(arrivals)


def _step_line(result: dict[str, Any]) -> str:
    return (
        "    p50 {p50_ms} ms, p99 {p99_ms} ms (HTTP answer p99 {http_p99_ms} ms), achieved "
        "{achieved_rps}/s, errors {errors} {error_kinds}; intake {intake_cpu_ms_per_registration} "
        "ms CPU per registration, {intake_cpu_cores} cores; client {client_cpu_cores} cores; "
        "machine {machine_busy:.0%} busy"
    ).format(**result)


def _holds(result: dict[str, Any]) -> bool:
    return (
        result["errors"] == 0
        and result["p99_ms"] is not None
        and result["p99_ms"] <= HOLD_P99_S * 1000
        and result["achieved_rps"] >= HOLD_SHARE * result["rate"]
    )


# ------------------------------------------------------------------------------------ run


async def _ceiling(admin: asyncpg.Connection, admin_url: str) -> int:
    """The raw INSERT ceiling of this server with 8 writers, on a scratch database."""
    dsn = await _fresh_database(admin, admin_url)
    try:
        setup = await asyncpg.connect(dsn)
        await setup.execute("CREATE TABLE bench_raw (LIKE eventstore.events INCLUDING ALL)")
        await setup.close()
        return round(await _raw_insert(dsn, 8))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')


async def run(admin_url: str, nats_url: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    admin = await asyncpg.connect(admin_url)
    name = f"bench_intake_{uuid.uuid4().hex[:8]}"
    try:
        print("  measuring raw_insert_8_writers_tps ...", flush=True)
        figures["raw_insert_8_writers_tps"] = await _ceiling(admin, admin_url)

        await admin.execute(f'CREATE DATABASE "{name}"')  # intake migrates it at start
        with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
            figures.update(await _drive(admin_url.rpartition("/")[0] + "/" + name, nats_url, tmp))
        return figures
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def service_env(dsn: str, nats_url: str, tmp: str) -> tuple[dict[str, str], LocalIssuer]:
    """What `make up` gives a service process (servers, keys, token issuer, bureau
    configuration), and the issuer to mint the benchmark's tokens with."""
    issuer = LocalIssuer(Path(tmp) / "issuer.pem", create=True)
    jwks = Path(tmp) / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": dsn,
        "PETITIONS_NATS_URL": nats_url,
        "PETITIONS_KEK": generate_key(16),
        "PETITIONS_BLIND_INDEX_KEY": generate_key(32),
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks),
        "PETITIONS_BUREAU_CONFIG": str(BUREAU_CONFIG),
        "PETITIONS_LOG_FORMAT": "json",
    }
    return env, issuer


async def _drive(dsn: str, nats_url: str, tmp: str) -> dict[str, Any]:
    env, issuer = service_env(dsn, nats_url, tmp)
    bureaus = tuple(sub.code for sub in load_config(BUREAU_CONFIG).sub_bureaus)
    tokens = {
        b: {
            "Authorization": f"Bearer {issuer.mint(f'clerk-{b}', 'registrar', b)}",
            "Content-Type": "application/json",
        }
        for b in bureaus
    }
    requests = Requests(bureaus, tokens)

    arrivals: dict[str, float] = {}

    async def on_message(msg: Msg) -> None:
        headers = msg.headers or {}
        if headers.get("Petitions-Type") == RECEIVED:
            arrivals.setdefault(headers.get("Petitions-Stream", ""), time.perf_counter())

    _quiet_httpcore()
    nc = await nats.connect(nats_url, name="bench-intake", pending_size=64 * 1024 * 1024)
    sub = await nc.subscribe(SUBJECTS, cb=on_message, pending_msgs_limit=1_000_000)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    figures: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    # What else keeps the machine busy (other work on a shared machine skews every figure).
    busy0, total0 = _machine_jiffies()
    await asyncio.sleep(2.0)
    busy1, total1 = _machine_jiffies()
    figures["machine_busy_before"] = round((busy1 - busy0) / max(1, total1 - total0), 2)
    with intake_process(env, Path(tmp) / "intake.log") as service:
        try:
            async with httpx.AsyncClient(
                base_url=service.url, limits=limits, timeout=REQUEST_TIMEOUT
            ) as client:
                await _ready(service, client)
                # A warm-up, not counted: the client's connections and the service's database
                # connections (its pool opens them on demand) are open before anything is timed.
                await _phase(client, requests, arrivals, service, 100, 3.0)
                rates = list(RAMP)
                while rates:
                    rate = rates.pop(0)
                    seconds = LATENCY_SECONDS if rate in LATENCY_RATES else STEP_SECONDS
                    print(f"  measuring {rate}/s for {seconds:.0f} s ...", flush=True)
                    result = await _phase(client, requests, arrivals, service, rate, seconds)
                    steps.append(result)
                    print(_step_line(result), flush=True)
                    if rate in LATENCY_RATES:
                        figures[f"p50_ms_at_{rate}"] = result["p50_ms"]
                        figures[f"p99_ms_at_{rate}"] = result["p99_ms"]
                    if not _holds(result):
                        # Stop the ramp; still measure the latency rates not reached yet.
                        rates = [r for r in rates if r in LATENCY_RATES]
                    await asyncio.sleep(1.0)  # let the server settle between steps
        except BaseException:
            print(f"intake log tail:\n{service.tail()}", file=sys.stderr)
            raise
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await nc.close()
        figures["peak_rss_mb"] = service.peak_mb()
    held = [s["rate"] for s in steps if _holds(s)]
    # The last rate of an unbroken run of steps that held.
    sustained = 0
    for s in steps:
        if not _holds(s):
            break
        sustained = s["rate"]
    figures["max_sustained_rps"] = sustained
    figures["steps"] = steps
    figures["rates_held"] = held
    figures["registrations"] = requests.issued
    return figures


def report(figures: dict[str, Any]) -> None:
    def show(value: Any, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:,}{unit}"

    def at_most(key: str, limit: float) -> str:
        value = figures.get(key)
        return "n/a" if value is None else ("met" if value <= limit else "MISSED")

    ceiling = figures["raw_insert_8_writers_tps"]
    rows = [
        ("p50 send -> event on NATS, 50/s", show(figures.get("p50_ms_at_50"), " ms"), "", ""),
        (
            "p99 send -> event on NATS, 50/s",
            show(figures.get("p99_ms_at_50"), " ms"),
            f"<= {TARGET_P99_MS_AT_50:.0f} ms",
            at_most("p99_ms_at_50", TARGET_P99_MS_AT_50),
        ),
        ("p50 send -> event on NATS, 200/s", show(figures.get("p50_ms_at_200"), " ms"), "", ""),
        ("p99 send -> event on NATS, 200/s", show(figures.get("p99_ms_at_200"), " ms"), "", ""),
        (
            "highest sustained rate",
            show(figures["max_sustained_rps"], "/s"),
            f"p99 <= {HOLD_P99_S:.0f} s, no errors, >= {HOLD_SHARE:.0%} achieved",
            "",
        ),
        (
            "peak RSS of intake",
            show(figures["peak_rss_mb"], " MB"),
            f"<= {TARGET_RSS_MB:.0f} MB",
            at_most("peak_rss_mb", TARGET_RSS_MB),
        ),
    ]
    print(f"\n{'figure':36} {'measured':>12}  {'target':50} ")
    for label, value, target, verdict in rows:
        print(f"{label:36} {value:>12}  {target:50} {verdict}")
    sustained = figures["max_sustained_rps"]
    # Each registration (a new case) is one transaction appending two events.
    print(
        f"beside: raw INSERT ceiling of the same server in the same run, 8 writers: "
        f"{ceiling:,} transactions/s; the sustained rate is {sustained / ceiling:.0%} of it"
    )
    print(
        f"machine busy before the run (other work): {figures['machine_busy_before']:.0%}; "
        "http = until the HTTP answer, cpu = intake CPU per registration"
    )
    print(
        f"\n{'rate/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'http p99':>9} "
        f"{'achieved':>9} {'errors':>6} {'cpu ms':>7} {'machine':>8}"
    )
    for s in figures["steps"]:
        print(
            f"{s['rate']:>7} {show(s['p50_ms']):>8} {show(s['p99_ms']):>8} "
            f"{show(s['max_ms']):>8} {show(s['http_p99_ms']):>9} {s['achieved_rps']:>9} "
            f"{s['errors']:>6} {s['intake_cpu_ms_per_registration']:>7} "
            f"{s['machine_busy']:>8.0%}"
        )


def main(admin_url: str, nats_url: str) -> dict[str, Any]:
    print("== intake benchmark 受理登记基准")
    measured = asyncio.run(run(admin_url, nats_url))
    measured["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    # The headline figures first, then the detail of every step.
    figures = {k: measured.pop(k, None) for k in HEADLINE} | measured
    report(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {RESULTS.relative_to(RESULTS.parents[2])}")
    return figures
