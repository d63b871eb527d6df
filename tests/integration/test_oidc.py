"""Tokens from an OpenID Connect provider (tests/support/oidc_provider.py, a real HTTP server):
the services find its keys through its discovery document, accept its tokens with the petition
claims where the provider puts them (Keycloak: realm_access.roles), and refuse tampered,
expired, wrong-audience and wrong-issuer ones. The provider's own side of PKCE is checked too,
so that the browser test's sign-in proves something."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

import base64
import json
import re
import secrets
from collections.abc import Iterator
from typing import Annotated, Any, cast
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from petitions.identity import (
    DiscoveredJwks,
    IdentitySettings,
    Principal,
    Role,
    authenticate,
    install_auth_errors,
    verifier_from_settings,
)

from tests.support.oidc_provider import OidcProvider, s256

REDIRECT = "http://127.0.0.1:1/auth/callback"
USERS = {
    "reg-1": {"role": "registrar", "bureau": "330102", "name": "李晓燕"},
    "off-1": {"role": "petition_office", "bureau": "3301", "name": "周敏", "department": "XFK"},
}


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(users=USERS, redirect_uris=[REDIRECT]) as provider:
        yield provider


def _service(idp: OidcProvider, **settings: Any) -> TestClient:
    """An API guarded as the services guard theirs, configured only with the issuer."""
    verifier = verifier_from_settings(
        IdentitySettings(
            oidc_issuer=idp.issuer,
            oidc_role_claim="realm_access.roles",
            **settings,
        )
    )
    auth = authenticate(lambda: verifier)
    app = FastAPI()
    install_auth_errors(app)

    @app.get("/me")
    async def me(who: Annotated[Principal, Depends(auth)]) -> dict[str, Any]:
        return {"user": who.user, "role": who.role, "bureau": who.bureau, "dept": who.department}

    return TestClient(app)


def _get(api: TestClient, token: str) -> httpx.Response:
    # Starlette 1.x types its TestClient against httpx2 (not installed; at run time it falls back
    # to httpx), so mypy sees the answer as Any: it is an httpx.Response.
    return cast(httpx.Response, api.get("/me", headers={"Authorization": f"Bearer {token}"}))


def test_the_services_find_the_keys_by_discovery_and_accept_the_providers_tokens(
    idp: OidcProvider,
) -> None:
    api = _service(idp)
    answer = _get(api, idp.mint("off-1"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "user": "off-1",
        "role": "petition_office",  # out of ["offline_access", ..., "petition_office"]
        "bureau": "3301",
        "dept": "XFK",
    }
    verifier = verifier_from_settings(IdentitySettings(oidc_issuer=idp.issuer))
    assert isinstance(verifier.jwks, DiscoveredJwks)
    assert verifier.jwks.jwks_uri is None  # nothing fetched before the first token
    verifier.jwks.key_for(idp.kid)
    assert verifier.jwks.jwks_uri == f"{idp.issuer}/protocol/openid-connect/certs"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["realm_access"]["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda idp: _tampered(idp.mint("reg-1")), "token_bad_signature"),
        (lambda idp: idp.mint("reg-1", exp_in=-120), "token_expired"),
        (lambda idp: idp.mint("reg-1", audience="account"), "token_wrong_audience"),
        (lambda idp: idp.mint("reg-1", issuer="http://127.0.0.1:1/other"), "token_wrong_issuer"),
        (
            lambda idp: jwt.encode(
                {"sub": "reg-1", "iss": idp.issuer, "aud": "petitions", "exp": 2_000_000_000},
                key="",
                algorithm="none",
            ),
            "token_algorithm",
        ),
        (lambda idp: idp.mint("reg-1", realm_access={"roles": ["offline_access"]}), "role_unknown"),
        (
            lambda idp: idp.mint("reg-1", realm_access={"roles": ["registrar", "admin"]}),
            "role_ambiguous",
        ),
    ],
    ids=["tampered", "expired", "wrong-audience", "wrong-issuer", "alg-none", "no-role", "two"],
)
def test_the_services_refuse_bad_tokens(idp: OidcProvider, make: Any, error: str) -> None:
    answer = _get(_service(idp), make(idp))
    assert answer.status_code == 401
    assert answer.json()["error"] == error
    assert re.search(r"[\u4e00-\u9fff]", answer.json()["message"])  # bilingual
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_discovery_document_naming_another_issuer_is_not_trusted(idp: OidcProvider) -> None:
    # The configured issuer differs from the document's by a trailing slash only: §4.3 wants
    # them identical, and the service says it cannot use the provider (503), not "bad token".
    verifier = verifier_from_settings(IdentitySettings(oidc_issuer=idp.issuer + "/"))
    assert isinstance(verifier.jwks, DiscoveredJwks)
    api = FastAPI()
    install_auth_errors(api)
    auth = authenticate(lambda: verifier)

    @api.get("/me")
    async def me(who: Annotated[Principal, Depends(auth)]) -> str:
        return who.user

    answer = TestClient(api).get("/me", headers={"Authorization": f"Bearer {idp.mint('reg-1')}"})
    assert answer.status_code == 503
    assert "PETITIONS_OIDC_ISSUER" in answer.json()["message"]


def _authorize(idp: OidcProvider, challenge: str) -> str:
    """The browser's part: the sign-in page, the user's choice, the code in the redirect."""
    base = f"{idp.issuer}/protocol/openid-connect/auth"
    query = {
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = httpx.get(base, params=query)
    assert page.status_code == 200
    assert "李晓燕" in page.text
    answer = httpx.post(base, data={**query, "user": "reg-1"})
    assert answer.status_code == 302
    location = urlparse(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    assert params["state"] == ["s1"]
    return params["code"][0]


def _exchange(idp: OidcProvider, code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        f"{idp.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": idp.client_id,
            "code_verifier": verifier,
        },
    )


def test_the_code_flow_needs_the_pkce_verifier_and_its_token_works(idp: OidcProvider) -> None:
    verifier = secrets.token_urlsafe(48)
    # Without S256 the provider does not even show its sign-in page.
    plain = httpx.get(
        f"{idp.issuer}/protocol/openid-connect/auth",
        params={"client_id": idp.client_id, "redirect_uri": REDIRECT, "response_type": "code",
                "scope": "openid", "code_challenge": verifier, "code_challenge_method": "plain"},
    )  # fmt: skip
    assert plain.status_code == 400

    wrong = _exchange(idp, _authorize(idp, s256(verifier)), secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    code = _authorize(idp, s256(verifier))
    tokens = _exchange(idp, code, verifier)
    assert tokens.status_code == 200, tokens.text
    assert _exchange(idp, code, verifier).status_code == 400  # a code is used once
    assert [(r.ok, r.pkce_checked) for r in idp.token_requests] == [
        (False, True),
        (True, True),
        (False, False),
    ]
    api = _service(idp)
    me = _get(api, tokens.json()["access_token"])
    assert me.status_code == 200
    assert me.json()["role"] == Role.REGISTRAR
    # The ID token is for the web client, not for the APIs.
    assert _get(api, tokens.json()["id_token"]).json()["error"] == "token_wrong_audience"
    # A refresh gives a fresh access token the services accept.
    refreshed = httpx.post(
        f"{idp.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens.json()["refresh_token"],
            "client_id": idp.client_id,
        },
    )
    assert refreshed.status_code == 200
    assert _get(api, refreshed.json()["access_token"]).status_code == 200
