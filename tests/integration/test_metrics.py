"""``/metrics`` and the access log (issue 16): scraped from in-process services on the test's
PostgreSQL and NATS before and after a few requests, the named series move; labels carry route
templates, never a case number, query string or personal data."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from tests.conftest import Token
from tests.integration.test_intake_registration import ZHANG, visit

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_intake_metrics_move_with_requests_and_name_route_templates(
    client: httpx.AsyncClient, auth: Token
) -> None:
    _, before = await scrape(client)

    with capture_logs() as logs:
        created = await client.post("/api/v1/submissions", json=visit(), headers=auth())
        assert created.status_code == 201, created.text
        case = created.json()
        reader = auth("handler", "330102", "handler-1")
        dossier = await client.get(
            f"/api/v1/cases/{case['case_number']}/dossier",
            params={"purpose": "handling"},
            headers=reader,
        )
        assert dossier.status_code == 200, dossier.text
        missing = await client.get(f"/nowhere/{ZHANG}")
        assert missing.status_code == 404

    text, after = await scrape(client)
    posted = {"method": "POST", "route": "/api/v1/submissions", "status": "2xx"}
    assert value(after, "petitions_http_requests_total", **posted) == (
        value(before, "petitions_http_requests_total", **posted) + 1
    )
    assert value(after, "petitions_http_request_duration_seconds_count", **posted) == (
        value(before, "petitions_http_request_duration_seconds_count", **posted) + 1
    )
    read = {"method": "GET", "route": "/api/v1/cases/{case_ref}/dossier", "status": "2xx"}
    assert value(after, "petitions_http_requests_total", **read) == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    assert value(after, "petitions_http_requests_total", **unmatched) == 1
    assert value(after, "petitions_eventstore_appended_events_total") > value(
        before, "petitions_eventstore_appended_events_total"
    )
    assert value(after, "petitions_personal_data_reads_total") == (
        value(before, "petitions_personal_data_reads_total") + 1
    )
    # No raw path, case number or personal datum is ever a label.
    for secret in (case["case_number"], case["case_id"], ZHANG, "13812345678", "handling"):
        assert secret not in text

    # /metrics is for Prometheus, not for API clients.
    openapi = (await client.get("/openapi.json")).json()
    assert "/metrics" not in openapi["paths"]

    access = [entry for entry in logs if entry["event"] == "http.request"]
    assert [(e["method"], e["route"], e["status"]) for e in access] == [
        ("POST", "/api/v1/submissions", 201),
        ("GET", "/api/v1/cases/{case_ref}/dossier", 200),
        ("GET", "<unmatched>", 404),
    ]
    for entry in access:
        assert entry["log_level"] == "info"
        assert isinstance(entry["duration_ms"], float)
        assert entry["correlation_id"]
        logged = repr(entry)
        for secret in (case["case_number"], ZHANG, "purpose=", "张三"):
            assert secret not in logged
    assert access[0]["correlation_id"] == created.headers["x-correlation-id"]


async def test_relay_consumer_and_sweep_series_move(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    """Intake registers; assignment's relay publishes it and its consumer takes it up; a sweep
    run by hand counts."""
    _, before = await scrape(assignment)

    created = await client.post("/api/v1/submissions", json=visit(), headers=auth())
    assert created.status_code == 201, created.text

    deadline = time.monotonic() + 60
    while True:
        _, after = await scrape(assignment)
        applied = value(after, "petitions_consumer_applied_total", consumer="consumer")
        if applied > value(before, "petitions_consumer_applied_total", consumer="consumer"):
            break
        assert time.monotonic() < deadline, "the consumer applied nothing within 60 s"
        await asyncio.sleep(0.2)
    assert value(after, "petitions_relay_published_total") > value(
        before, "petitions_relay_published_total"
    )
    assert value(after, "petitions_relay_active") == 1
    assert ("petitions_relay_lag", frozenset()) in after
    assert ("petitions_consumer_dead_lettered_total", frozenset({("consumer", "consumer")})) in (
        after
    )
    # Taking the case up appended assignment's own events through its own store.
    assert value(after, "petitions_eventstore_appended_events_total") > value(
        before, "petitions_eventstore_appended_events_total"
    )

    admin = auth("admin", "3301", "admin-01")
    swept = await assignment.post("/api/v1/sweep", json={}, headers=admin)
    assert swept.status_code == 200, swept.text
    _, later = await scrape(assignment)
    assert value(later, "petitions_sweep_runs_total") == (
        value(after, "petitions_sweep_runs_total") + 1
    )
    assert ("petitions_sweep_notices_raised_total", frozenset()) in later
