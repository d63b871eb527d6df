"""The API pages work on an offline intranet: each service's /docs and /redoc refer to no other
host (FastAPI's own load Swagger UI and ReDoc from a CDN, and fonts from Google), and every
script, style sheet and icon they name is served by the service itself."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from devstack.cli import DEMO_BUREAU_CONFIG
from fastapi.testclient import TestClient
from petitions.identity import LocalIssuer

# Any absolute address (http://host, https://host, //host) in src= or href= or a URL string.
EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")
ASSET = re.compile(
    r"""(?:src|href)="([^"]+)"|url: ?'([^']+)'|spec-url="([^"]+)"|"(docs-assets/[^"]+)\""""
)


@pytest.fixture(params=["intake", "assignment", "reporting"])
def client(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    # Built as `make web-types` builds them: throwaway issuer keys, nothing connected (no
    # lifespan: the pages need no database).
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(LocalIssuer(tmp_path / "k.pem", create=True).jwks()))
    monkeypatch.setenv("PETITIONS_OIDC_ISSUER", "http://127.0.0.1/docs-test")
    monkeypatch.setenv("PETITIONS_JWKS_FILE", str(jwks))
    monkeypatch.delenv("PETITIONS_JWKS_URL", raising=False)
    monkeypatch.setenv("PETITIONS_BUREAU_CONFIG", str(DEMO_BUREAU_CONFIG))
    app = importlib.import_module(f"{request.param}.main").create_app()
    return TestClient(app)


def _referenced(html: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in ASSET.finditer(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_pages_name_no_other_host_and_their_assets_answer(
    client: TestClient, page: str
) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert EXTERNAL.findall(html) == [], f"{page} refers to another host"
    referenced = _referenced(html)
    assert any(r.endswith(".js") for r in referenced), referenced
    for ref in referenced:
        # Relative to the page, as a browser resolves them (and as they stay right behind the
        # gateway's /intake/ prefix).
        url = "/" + ref.lstrip("/")
        answer = client.get(url)
        assert answer.status_code == 200, f"{page} names {ref}, which answers {answer.status_code}"
        assert answer.content, url
        assert not (url.endswith(".js") or url.endswith(".css")) or len(answer.content) > 1000


def test_swagger_ui_reads_openapi_3_1(client: TestClient) -> None:
    """FastAPI writes OpenAPI 3.1, which only Swagger UI 5 renders (4.x shows 'no valid
    version field')."""
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    bundle = client.get("/docs-assets/swagger-ui-bundle.js").text
    assert re.search(r'"5\.\d+\.\d+"', bundle), "the bundled Swagger UI is not version 5"
