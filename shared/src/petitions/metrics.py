"""``/metrics`` (Prometheus text format) and the access log, for every service.

Each app has its own registry: tests build several apps in one process, and the process-wide
default registry would refuse the second app's metrics (duplicate names) or mix their counts.

Request metrics are labelled by route *template* (``/cases/{ref}``), never the path a caller
sent: a path may hold a case number or query code, and each distinct path would be a new series.
What the background tasks did (relay, consumers, sweep, store appends, personal-data reads) is
read at scrape time from the counters those objects keep anyway, so none of them needs to know
about Prometheus.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from petitions.log import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI

    from petitions.runtime import Runtime

log = get_logger("petitions.access")

METRICS_PATH: Final = "/metrics"
UNMATCHED: Final = "<unmatched>"
"""The route label of a request no route took (a 404): its raw path is never a label."""
# Probes arrive every few seconds from orchestrators and Prometheus; at info level they would
# bury the requests people make. They are logged at debug.
_QUIET_PATHS: Final = frozenset({METRICS_PATH, "/health", "/health/live", "/health/ready"})


@dataclass(frozen=True)
class Counted:
    """A counter some object keeps (``read`` returns its current value), exposed as is."""

    name: str
    help: str
    read: Callable[[], float]


@dataclass
class AppMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=False)
    )
    requests: Counter = field(init=False)
    latency: Histogram = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "petitions_http_requests",
            "HTTP requests answered, by method, route template and status class",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "petitions_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class",
            ["method", "route", "status"],
            registry=self.registry,
        )


class _RuntimeCollector(Collector):
    """The runtime's counters at scrape time; the relay's lag is refreshed by the endpoint just
    before (it takes a query, and ``collect`` cannot await)."""

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime
        self.relay_lag: int | None = None

    def collect(self) -> Iterable[Metric]:
        try:
            runtime = self._runtime()
        except KeyError:  # before the lifespan has built the runtime
            return
        relay = runtime.relay
        if relay is not None:
            for name, text, value in (
                ("published", "Events the relay published onto JetStream", relay.published),
                (
                    "duplicates",
                    "Events found already on the stream (re-published)",
                    relay.duplicates,
                ),
                ("preempted", "Events whose id another publisher used first", relay.preempted),
                ("dead_lettered", "Events NATS refused for good (skipped)", relay.dead_lettered),
                ("takeovers", "Times this process took the relay's lease", relay.takeovers),
                (
                    "lease_lost",
                    "Times this process found the relay's lease gone and stood by",
                    relay.lease_lost,
                ),
                (
                    "fenced",
                    "Publishes or checkpoints refused: the lease was no longer this process's",
                    relay.fenced,
                ),
            ):
                yield CounterMetricFamily(f"petitions_relay_{name}", text, value=value)
            yield GaugeMetricFamily(
                "petitions_relay_active",
                "1 while this process holds the relay, 0 while it stands by",
                value=1 if relay.is_leader else 0,
            )
            if relay.is_leader and relay.lease.epoch is not None:
                yield GaugeMetricFamily(
                    "petitions_relay_lease_epoch",
                    "The epoch of the relay lease this process holds",
                    value=relay.lease.epoch,
                )
            if relay.is_leader and self.relay_lag is not None:
                yield GaugeMetricFamily(
                    "petitions_relay_lag",
                    "Events stored after the relay's cursor (counted up to 100,000)",
                    value=self.relay_lag,
                )
        applied = CounterMetricFamily(
            "petitions_consumer_applied", "Events a consumer applied", labels=["consumer"]
        )
        dead = CounterMetricFamily(
            "petitions_consumer_dead_lettered",
            "Messages a consumer kept as dead letters",
            labels=["consumer"],
        )
        rejected = CounterMetricFamily(
            "petitions_consumer_rejected",
            "Messages the store did not bear out (forged, garbled or altered)",
            labels=["consumer"],
        )
        lag = GaugeMetricFamily(
            "petitions_consumer_lag",
            "Messages JetStream holds for a consumer, as of its last look",
            labels=["consumer"],
        )
        for name, watched in runtime.watched.items():
            for family, attribute in (
                (applied, "applied"),
                (dead, "dead_lettered"),
                (rejected, "rejected"),
                (lag, "pending"),
            ):
                kept = getattr(watched, attribute, None)
                if kept is not None:
                    family.add_metric([name], kept)
        yield from (applied, dead, rejected, lag)
        yield CounterMetricFamily(
            "petitions_eventstore_appended_events",
            "Events this process appended to the event store",
            value=sum(store.appended for store in runtime.stores),
        )
        for counted in runtime.counted:
            yield CounterMetricFamily(counted.name, counted.help, value=counted.read())


def _route_of(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    route = scope.get("route")  # FastAPI's APIRoute puts itself here when it matches
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # Plain Starlette routes and mounts (the docs pages and their assets) do not: ask them.
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED))
    return UNMATCHED


class _Observe:
    """Plain ASGI (not ``@app.middleware``: see petitions.http._CorrelationIds): counts, times
    and logs each request once it is answered."""

    def __init__(
        self, app: ASGIApp, metrics: AppMetrics, routes: Callable[[], Sequence[BaseRoute]]
    ) -> None:
        self.app = app
        self._metrics = metrics
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope, self._routes())
            method = str(scope["method"])
            status_class = f"{status // 100}xx"
            self._metrics.requests.labels(method, route, status_class).inc()
            self._metrics.latency.labels(method, route, status_class).observe(elapsed)
            # The template, never the path or query string: either may hold personal data.
            (log.debug if scope["path"] in _QUIET_PATHS else log.info)(
                "http.request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 1),
                correlation_id=scope.get("state", {}).get("correlation_id"),
            )


def install_metrics(app: FastAPI, runtime: Callable[[], Runtime]) -> AppMetrics:
    """``GET /metrics`` and the access log. Left out of the OpenAPI document: it is for
    Prometheus, not for API clients."""
    from petitions.runtime import relay_lag  # runtime imports this module's Counted

    metrics = AppMetrics()
    collector = _RuntimeCollector(runtime)
    metrics.registry.register(collector)
    app.add_middleware(_Observe, metrics=metrics, routes=lambda: app.router.routes)

    async def scrape(_: Request) -> Response:
        try:
            current = runtime()
        except KeyError:
            current = None
        if current is not None and current.relay is not None and current.relay.is_leader:
            collector.relay_lag = await relay_lag(current.pool)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route(METRICS_PATH, scrape, methods=["GET"], include_in_schema=False)
    app.state.metrics = metrics
    return metrics
