"""Fuzzing every operation of intake's OpenAPI document, against real PostgreSQL and NATS.

Schemathesis turns each operation into Hypothesis strategies (requests that conform to the schema
and requests that violate it); they carry a valid token of 330102 (a registrar, or the petition
office for the operations only it may use) and go in-process to the running app. Generated values
are steered now and then onto known ones (existing cases and reception sessions, real bureau
codes, dates around now), and for POST /api/v1/submissions a further strategy starts from a
registrable submission and swaps some of its fields for generated ones, so the fuzz also reaches
what lies past the schema: the bureau configuration, scope, repeats, links, a terminated matter,
reused idempotency keys.

Two properties, for every generated request:
- the answer is never a 5xx;
- an answer in the 4xx range wrote nothing: every table of the event store, of intake, of the
  personal data keys and of messaging holds exactly the rows it held before the request.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from intake.config import Settings
from intake.main import create_app
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.messages.assignment import CaseTerminated
from schemathesis import GenerationMode

from tests.conftest import ROOT, TEST_KEK_B64, TEST_NOW, Servers
from tests.support.events import resident_id

pytestmark = pytest.mark.integration

BUREAU = "330102"
ROLES = ("registrar", "petition_office")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMAS = ("eventstore", "intake", "personal", "messaging")
"""Where a request could write: none of it may change on a 4xx answer."""

OPEN = resident_id("33010219800101123")  # the petitioner of an open case
ENDED = resident_id("33010319700303789")  # the petitioner of a case terminated after re-review
CST = timezone(timedelta(hours=8))
RECEPTION_DAYS = ("2026-11-02", "2026-11-30")  # four Wednesdays: a sub-bureau head's days


def _app(database_url: str, nats: dict[str, Any], issuer: LocalIssuer, directory: Path) -> FastAPI:
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    return create_app(
        Settings(
            database_url=database_url,
            **nats,
            run_relay=False,
            kek=TEST_KEK_B64,
            blind_index_key=base64.b64encode(os.urandom(32)).decode(),
            oidc_issuer=DEV_ISSUER,
            jwks_file=jwks,
            bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
        ),
        clock=lambda: TEST_NOW,
    )


def _operations() -> list[str]:
    """Every operation of the app's schema, "METHOD /path" (building the app connects nowhere)."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        issuer = LocalIssuer(directory / "issuer.pem", create=True)
        app = _app(
            "postgresql://nobody@localhost/none",
            {"nats_url": "nats://localhost:1"},
            issuer,
            directory,
        )
    return sorted(
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in METHODS
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation" in metafunc.fixturenames:
        metafunc.parametrize("operation", _operations())


@dataclass
class Service:
    http: httpx.AsyncClient
    schema: Any
    tokens: dict[str, str]
    pool: asyncpg.Pool
    tables: list[str]
    cases: list[str]
    query_code: str
    sessions: list[str] = field(default_factory=list)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "issuer.pem", create=True)


def _submission(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "visit",
        "received_at": TEST_NOW.astimezone(CST).isoformat(),
        "receiving_bureau": BUREAU,
        "receiving_officer": "王警官",
        "petitioners": [{"name": "张三", "resident_id": OPEN}],
        "head_count": 1,
        "category": "SQ01",
        "sub_bureau": BUREAU,
        "summary": "反映邻居噪音扰民，派出所处理不及时",
    }
    body.update(changes)
    return body


@pytest.fixture
async def service(
    database_url: str,
    servers: Servers,
    issuer: LocalIssuer,
    personal_store: EventStore,
    tmp_path: Path,
) -> AsyncIterator[Service]:
    # The store that writes the terminated case's reason seals it, as assignment does.
    store = personal_store
    app = _app(database_url, servers.settings("intake"), issuer, tmp_path)
    schema = schemathesis.openapi.from_dict(app.openapi())
    tokens = {role: issuer.mint(f"{role}-01", role, BUREAU) for role in ROLES}
    async with app.router.lifespan_context(app):
        # An unhandled error comes back as the 500 a client would get, not as the exception.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            tables = [
                f"{r['table_schema']}.{r['table_name']}"
                for r in await store.pool.fetch(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE' "
                    "ORDER BY 1, 2",
                    list(SCHEMAS),
                )
            ]
            assert {"eventstore.events", "intake.case_numbers"} <= set(tables)
            service = Service(http, schema, tokens, store.pool, tables, [], "")
            await _seed(service, store)
            yield service


async def _seed(service: Service, store: EventStore) -> None:
    """An open case, a case terminated after re-review, and (when intake has them) reception
    sessions of 330102, one of them held, so that generated requests can name real things."""
    http, registrar = service.http, service.auth("registrar")
    opened = await http.post("/api/v1/submissions", json=_submission(), headers=registrar)
    assert opened.status_code == 201, opened.text
    ended = await http.post(
        "/api/v1/submissions",
        json=_submission(petitioners=[{"name": "李四", "resident_id": ENDED}]),
        headers=registrar,
    )
    assert ended.status_code == 201, ended.text
    ended_case = ended.json()["case_id"]
    stream = f"case-{ended_case}"
    (registered,) = await store.read_stream(stream, 1, 1, reveal=False)
    terminated = CaseTerminated(
        subject_id=registered.data.subject_id, case_id=ended_case, reason="复核维持"
    )
    await store.append(
        stream,
        [NewEvent(terminated, bureau=BUREAU)],
        await store.stream_version(stream),
        metadata=Metadata(actor="legal-01", service="assignment"),
    )
    service.cases = [opened.json()["case_id"], ended_case]
    service.query_code = opened.json()["query_code"]

    if "/api/v1/reception/schedule" in service.schema.raw_schema["paths"]:
        office = service.auth("petition_office")
        first, last = RECEPTION_DAYS
        scheduled = await http.post(
            "/api/v1/reception/schedule",
            json={"bureau": BUREAU, "first": first, "last": last, "place": "江城分局接访室"},
            headers=office,
        )
        assert scheduled.status_code == 201, scheduled.text
        service.sessions = [s["session_id"] for s in scheduled.json()]
        held = await http.post(
            f"/api/v1/reception/sessions/{service.sessions[0]}/held",
            json={"held_by": "王建军"},
            headers=office,
        )
        assert held.status_code == 204, held.text


async def _snapshot(service: Service) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows."""
    query = " UNION ALL ".join(
        f"SELECT '{table}' AS name, count(*) AS n, "
        f"md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS digest "
        f"FROM {table} t"
        for table in service.tables
    )
    rows = await service.pool.fetch(query)
    return {r["name"]: (r["n"], r["digest"]) for r in rows}


# --- known values to steer generated requests onto --------------------------------------------


def _recent_time() -> st.SearchStrategy[str]:
    """A moment from 31 days before the pinned clock to 10 minutes after it."""
    return st.integers(-600, 31 * 86400).map(
        lambda back: (TEST_NOW - timedelta(seconds=back)).astimezone(CST).isoformat()
    )


def _known(service: Service) -> dict[str, st.SearchStrategy[Any]]:
    ids = st.sampled_from(service.cases) | st.uuids().map(str)
    sessions = st.sampled_from(service.sessions) if service.sessions else st.uuids().map(str)
    bureaus = st.sampled_from([BUREAU, BUREAU, "3301", "330103", "330187"])
    days = st.dates(date(2024, 1, 1), date(2027, 12, 31)).map(date.isoformat)
    code = service.query_code
    text = st.sampled_from(["王建军", "市局接访室", "请一周内核查回复", " ", "x" * 3000])
    return {
        "case_id": ids,
        "link_case_id": ids,
        "session_id": sessions,
        "reception_session_id": sessions,
        "bureau": bureaus,
        "receiving_bureau": bureaus,
        "sub_bureau": bureaus,
        "first": days,
        "last": days,
        "code": st.sampled_from([code, code.lower(), f" {code} ", code[:-1] + "2"]),
        "received_at": _recent_time(),
        "category": st.sampled_from(["SQ01", "SQ02", "JY01", "JK01", "JK06", "XX99"]),
        "held_by": text,
        "reason": text,
        "instruction": text,
        "place": text,
        "link_reason": text,
    }


@st.composite
def _steered(draw: st.DrawFn, service: Service, api: Any, role: str) -> dict[str, Any]:
    """A schema-conforming request with some of its values swapped for known ones."""
    case = draw(api.as_strategy(GenerationMode.POSITIVE, headers=service.auth(role)))
    known = _known(service)
    for container in (case.path_parameters, case.query, case.body):
        if not isinstance(container, dict):
            continue
        for key in sorted(container):
            if key in known and draw(st.integers(0, 3)):
                container[key] = draw(known[key])
    return _request(case)


def _valid_ids() -> st.SearchStrategy[str]:
    fresh = st.builds(
        lambda area, born, seq: resident_id(f"{area}{born:%Y%m%d}{seq:03d}"),
        st.sampled_from(["330102", "330103", "330108", "110101"]),
        st.dates(date(1930, 1, 1), date(2008, 12, 31)),
        st.integers(0, 999),
    )
    return st.sampled_from([OPEN, ENDED, OPEN.lower()]) | fresh


@st.composite
def _registrable(draw: st.DrawFn, service: Service) -> dict[str, Any]:
    """A submission that passes the schema and, mostly, the configuration as well."""
    known = _known(service)
    ids = draw(st.lists(_valid_ids(), min_size=1, max_size=3, unique_by=str.upper))
    petitioners = []
    for rid in ids:
        person: dict[str, Any] = {"name": draw(st.sampled_from(["张三", "李四", "王五"]))}
        person["resident_id"] = rid
        if draw(st.booleans()):
            person["phone"] = draw(
                st.sampled_from(["13812345678", "+86 138 1234 5678", "0571-8765432"])
            )
        petitioners.append(person)
    channel = draw(
        st.sampled_from(
            ["visit", "letter", "phone", "online", "congress_referral", "higher_referral"]
        )
    )
    mostly = st.integers(0, 4).flatmap  # 4 times in 5 the usual value, else a known one
    body = _submission(
        channel=channel,
        received_at=draw(known["received_at"]),
        receiving_bureau=draw(mostly(lambda n: known["bureau"] if n == 0 else st.just(BUREAU))),
        petitioners=petitioners,
        head_count=draw(st.integers(len(ids), 12)),
        category=draw(mostly(lambda n: known["category"] if n == 0 else st.just("SQ01"))),
        sub_bureau=draw(mostly(lambda n: known["bureau"] if n == 0 else st.just(BUREAU))),
    )
    if "referral" in channel and draw(st.integers(0, 4)):
        body["document_number"] = "临人大交〔2026〕12号"
    if draw(st.integers(0, 3)) == 0:
        body["link_case_id"] = draw(known["link_case_id"])
        if draw(st.integers(0, 4)):
            body["link_reason"] = "同一事项"
    if draw(st.integers(0, 3)) == 0:
        body["force_new_reason"] = "新的事实"
    if draw(st.integers(0, 4)) == 0:
        body["reception_session_id"] = draw(known["reception_session_id"])
    return body


@st.composite
def _submissions(draw: st.DrawFn, service: Service, api: Any, role: str) -> dict[str, Any]:
    """A registrable submission with some fields swapped for schemathesis-generated ones."""
    body = draw(_registrable(service))
    swaps = draw(st.sampled_from([0, 0, 1, 2]))
    if swaps:
        mode = draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
        generated = draw(api.as_strategy(mode)).body
        if isinstance(generated, dict) and generated:
            keys = st.sets(st.sampled_from(sorted(generated)), min_size=1, max_size=swaps)
            for key in draw(keys):
                body[key] = generated[key]
    headers = service.auth(role)
    key = draw(st.sampled_from([None, None, "fresh", "fresh", "desk-1"]))  # desk-1: reused
    if key is not None:
        headers["Idempotency-Key"] = str(draw(st.uuids())) if key == "fresh" else key
    return {"method": "POST", "url": "/api/v1/submissions", "json": body, "headers": headers}


# --- schemathesis cases as httpx requests -----------------------------------------------------


def _request(case: Any) -> dict[str, Any]:
    sent = case.as_transport_kwargs(base_url="http://intake")
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "headers": sent["headers"],
        "params": sent.get("params") or None,
    }
    if "json" in sent:
        request["json"] = sent["json"]
    elif "data" in sent:
        request["content"] = sent["data"]
    return request


@st.composite
def _requests(draw: st.DrawFn, service: Service, operation: str) -> dict[str, Any]:
    method, path = operation.split(" ", 1)
    api = service.schema[path][method]
    role = draw(st.sampled_from(ROLES))
    if operation == "POST /api/v1/submissions" and draw(st.booleans()):
        return draw(_submissions(service, api, role))
    options = [
        api.as_strategy(GenerationMode.POSITIVE, headers=service.auth(role)).map(_request),
        api.as_strategy(GenerationMode.NEGATIVE, headers=service.auth(role)).map(_request),
        _steered(service, api, role),
    ]
    return draw(st.one_of(options))


def _shown(service: Service, request: dict[str, Any]) -> str:
    headers = request.get("headers") or {}
    roles = {f"Bearer {token}": role for role, token in service.tokens.items()}
    kept = {
        k: v
        for k, v in headers.items()
        if k.lower() not in ("authorization", "user-agent", "accept", "accept-encoding")
        and not k.lower().startswith("x-schemathesis")
    }
    shown = {k: v for k, v in request.items() if k != "headers" and v is not None}
    shown["headers"] = kept
    shown["token"] = f"a valid token of {BUREAU}, {roles.get(headers.get('Authorization', ''))}"
    return json.dumps(shown, ensure_ascii=False, default=str)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
async def test_no_server_error_and_no_write_on_a_refusal(
    service: Service, operation: str, data: st.DataObject
) -> None:
    request = data.draw(_requests(service, operation), label="request")
    before = await _snapshot(service)

    response = await service.http.request(**request)

    event(f"{response.status_code}")  # pytest --hypothesis-show-statistics: what was reached
    shown = f"{_shown(service, request)} -> {response.status_code} {response.text[:500]}"
    assert response.status_code < 500, f"server error: {shown}"
    if 400 <= response.status_code < 500:
        after = await _snapshot(service)
        changed = sorted(t for t in service.tables if before[t] != after[t])
        assert not changed, f"a {response.status_code} answer wrote to {changed}: {shown}"
