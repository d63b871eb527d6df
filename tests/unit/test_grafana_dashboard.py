"""The Grafana dashboard (deploy/grafana/petitions.json) queries only series the services expose:
a renamed metric breaks this test, not the dashboard at 3 a.m. (issue 16).

What exists is taken from the code itself: the registry and collector of petitions.metrics,
exposed in Prometheus text format (with an in-memory stand-in for the runtime's counters), plus
the counters each service registers with ``runtime.count``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, cast

from petitions.metrics import AppMetrics, _RuntimeCollector
from prometheus_client.exposition import generate_latest

from tests.conftest import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "petitions.json"
SERIES = re.compile(r"\bpetitions_[a-z0-9_]+")


@dataclass
class _Lease:
    epoch: int | None = 1


@dataclass
class _Relay:
    published: int = 0
    duplicates: int = 0
    preempted: int = 0
    dead_lettered: int = 0
    takeovers: int = 1
    lease_lost: int = 0
    fenced: int = 0
    is_leader: bool = True
    lease: _Lease = field(default_factory=_Lease)


@dataclass
class _Consumer:
    applied: int = 0
    dead_lettered: int = 0
    rejected: int = 0
    pending: int = 0


@dataclass
class _Store:
    appended: int = 0


@dataclass
class _Runtime:
    relay: _Relay = field(default_factory=_Relay)
    watched: dict[str, _Consumer] = field(default_factory=lambda: {"consumer": _Consumer()})
    stores: list[_Store] = field(default_factory=lambda: [_Store()])
    counted: list[Any] = field(default_factory=list)


def _exposed() -> set[str]:
    metrics = AppMetrics()
    collector = _RuntimeCollector(lambda: cast(Any, _Runtime()))
    collector.relay_lag = 0
    metrics.registry.register(collector)
    metrics.requests.labels("GET", "/x", "2xx").inc()
    metrics.latency.labels("GET", "/x", "2xx").observe(0.01)
    text = generate_latest(metrics.registry).decode()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    # Counters the services register on their runtime (runtime.count("name", ...)).
    for source in (ROOT / "services").glob("*/src/**/*.py"):
        for name in re.findall(r'\.count\(\s*"(petitions_[a-z0-9_]+)"', source.read_text()):
            names.add(f"{name}_total")
    return names


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs.append(query["query"])
    return exprs


def test_every_series_the_dashboard_queries_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = _exposed()
    queried = {name for expr in _queries(dashboard) for name in SERIES.findall(expr)}
    missing = sorted(queried - exposed)
    assert not missing, f"the dashboard queries series no service exposes: {missing}"
    # It shows each kind of thing the issue names: requests and latency, relay lag and publish
    # rate, consumer lag and dead letters, sweeps, appends, personal-data reads.
    for wanted in (
        "petitions_http_requests_total",
        "petitions_http_request_duration_seconds_bucket",
        "petitions_relay_lag",
        "petitions_relay_published_total",
        "petitions_consumer_lag",
        "petitions_consumer_dead_lettered_total",
        "petitions_sweep_runs_total",
        "petitions_sweep_notices_raised_total",
        "petitions_eventstore_appended_events_total",
        "petitions_personal_data_reads_total",
    ):
        assert wanted in queried, wanted


def test_the_check_notices_a_series_that_does_not_exist() -> None:
    exposed = _exposed()
    assert "petitions_relay_published_total" in exposed
    assert "petitions_relay_published" not in exposed  # a counter is exposed with _total
    assert "petitions_sweep_runs_total" in exposed  # found in assignment's runtime.count
    assert not {"petitions_no_such_series"} <= exposed


def test_every_panel_reads_the_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {"${datasource}"}
    assert all(p["targets"] for p in dashboard["panels"])
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_dashboard_file_is_where_the_readme_says() -> None:
    assert "deploy/grafana/petitions.json" in (ROOT / "README.md").read_text()
