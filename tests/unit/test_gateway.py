"""The devstack gateway: the workbench's files with deep links answered by index.html, the three
APIs behind their prefixes with the services' own paths, and development sign-in only when it is
given the development issuer's key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from devstack.gateway import create_app, web_oidc_from_env
from petitions.bureaus import load_config
from petitions.identity import LocalIssuer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import ROOT

CONFIG = load_config(ROOT / "deploy/config/bureaus.demo.toml")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<html>workbench</html>")
    (tmp_path / "dist" / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside dist")
    return tmp_path / "dist"


async def _echo(request: Request) -> JSONResponse:
    """Stands in for a service: tells what reached it (the body arrives streamed)."""
    return JSONResponse(
        {
            "host": request.url.hostname,
            "path": request.url.path,
            "query": request.url.query,
            "auth": request.headers.get("authorization"),
            "body": (await request.body()).decode(),
        },
        status_code=201,
    )


ECHO = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST"])])


def _client(
    dist: Path, issuer_key: Path | None = None, web_oidc: dict[str, Any] | None = None
) -> TestClient:
    upstreams = {n: f"http://{n}.test" for n in ("intake", "assignment", "reporting")}
    app = create_app(upstreams, dist, CONFIG, issuer_key, web_oidc=web_oidc)
    return TestClient(app)


def test_files_and_deep_links(dist: Path) -> None:
    with _client(dist) as client:
        assert client.get("/assets/app-1234.js").text == "console.log(1)"
        assert "immutable" in client.get("/assets/app-1234.js").headers["cache-control"]
        for deep in ("/", "/cases/3f2c", "/ledger?page=2", "/desk"):
            answer = client.get(deep)
            assert answer.status_code == 200
            assert answer.text == "<html>workbench</html>"
            assert answer.headers["cache-control"] == "no-cache"
        # Never a file outside dist, however the path is spelled.
        assert "outside" not in client.get("/../secret.txt").text
        assert "outside" not in client.get("/%2e%2e/secret.txt").text


def test_apis_keep_their_own_paths(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transport = httpx.ASGITransport(app=ECHO)
    original = httpx.AsyncClient.__init__

    def with_mock(self: httpx.AsyncClient, **kwargs: Any) -> None:
        original(self, transport=transport, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", with_mock)
    with _client(dist) as client:
        answer = client.post(
            "/intake/api/v1/submissions?x=1",
            content=b'{"a": 1}',
            headers={"Authorization": "Bearer T"},
        )
        assert answer.status_code == 201
        assert answer.json() == {
            "host": "intake.test",
            "path": "/api/v1/submissions",
            "query": "x=1",
            "auth": "Bearer T",
            "body": '{"a": 1}',
        }
        assert client.get("/reporting/api/v1/reports/ledger").json()["host"] == "reporting.test"


def test_no_sign_in_without_the_development_key(dist: Path) -> None:
    with _client(dist) as client:
        assert client.get("/dev/users").status_code == 404
        assert client.post("/dev/token", json={"user": "registrar1"}).status_code == 404
        assert client.get("/auth-config.json").json()["mode"] == "none"


def test_an_identity_provider_switches_development_sign_in_off(dist: Path, tmp_path: Path) -> None:
    LocalIssuer(tmp_path / "issuer.pem", create=True)
    web_oidc = web_oidc_from_env(
        {
            "PETITIONS_OIDC_ISSUER": "https://idp.example/realms/petitions",
            "PETITIONS_WEB_OIDC_CLIENT_ID": "petitions-workbench",
            "PETITIONS_OIDC_ROLE_CLAIM": "realm_access.roles",
        }
    )
    # Even with the development key given, a configured provider means no /dev sign-in.
    with _client(dist, tmp_path / "issuer.pem", web_oidc) as client:
        assert client.get("/dev/users").status_code == 404
        assert client.post("/dev/token", json={"user": "registrar1"}).status_code == 404
        assert client.get("/auth-config.json").json() == {
            "mode": "oidc",
            "issuer": "https://idp.example/realms/petitions",
            "client_id": "petitions-workbench",
            "scope": "openid profile",
            "claims": {
                "role": "realm_access.roles",
                "bureau": "bureau",
                "department": "department",
                "name": "name",
            },
        }
    assert web_oidc_from_env({"PETITIONS_OIDC_ISSUER": "https://idp.example"}) is None
    with pytest.raises(SystemExit, match="PETITIONS_OIDC_ISSUER"):
        web_oidc_from_env({"PETITIONS_WEB_OIDC_CLIENT_ID": "petitions-workbench"})


def test_development_sign_in(dist: Path, tmp_path: Path) -> None:
    issuer = LocalIssuer(tmp_path / "issuer.pem", create=True)
    with _client(dist, tmp_path / "issuer.pem") as client:
        users = client.get("/dev/users").json()["users"]
        registrar = next(u for u in users if u["role"] == "registrar")
        assert registrar["bureau_name"] == "江城分局"
        assert registrar["role_label"] == "登记员"
        answer = client.post("/dev/token", json={"user": registrar["user"]}).json()
        claims = jwt.decode(
            answer["token"],
            jwt.PyJWK(issuer.jwks()["keys"][0]).key,
            algorithms=["ES256"],
            audience="petitions",
        )
        assert (claims["sub"], claims["role"], claims["bureau"]) == (
            registrar["user"],
            "registrar",
            "330102",
        )
        assert client.post("/dev/token", json={"user": "nobody"}).status_code == 422
        reference = client.get("/reference.json").json()
        assert reference["city"]["code"] == "3301"
        assert client.get("/auth-config.json").json() == {"mode": "dev"}
        assert "resident_id" not in json.dumps(reference)
