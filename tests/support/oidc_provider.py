"""A small OpenID Connect provider for tests (no internet here, so no real Keycloak): discovery
document, JWKS, an authorisation endpoint with a sign-in page, and a token endpoint that checks
the PKCE verifier (S256 only), the client, the redirect URI and single use of each code. Tokens
carry the petition claims in Keycloak's shape (roles in ``realm_access.roles``), so the services'
configurable claim names are exercised too.

Started by a test in a thread of the test process (uvicorn); the browser and the service
processes reach it over HTTP like a real provider::

    with OidcProvider(users={...}, redirect_uris=[...]) as idp:
        idp.issuer, idp.mint("u1", exp_in=-60), idp.token_requests
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

# What a Keycloak realm sends besides our role: the provider's own roles.
PROVIDER_ROLES = ["offline_access", "uma_authorization", "default-roles-petitions"]
# The services' settings for tokens in this shape.
KEYCLOAK_CLAIMS = {"PETITIONS_OIDC_ROLE_CLAIM": "realm_access.roles"}


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (without python-multipart, which only
    Starlette's multipart parsing would need)."""
    return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    user: str
    nonce: str | None
    scope: str


@dataclass
class TokenRequest:
    """One call of the token endpoint, as the provider judged it."""

    grant_type: str
    ok: bool
    error: str | None = None
    pkce_checked: bool = False


@dataclass
class OidcProvider:
    users: dict[str, dict[str, Any]]
    """user id -> {"role", "bureau", "name", "department"?}"""
    redirect_uris: list[str]
    client_id: str = "petitions-workbench"
    audience: str = "petitions"
    access_ttl: int = 300
    host: str = "127.0.0.1"
    token_requests: list[TokenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, tuple[str, str]] = {}  # token -> (user, client)
        with socket.socket() as s:
            s.bind((self.host, 0))
            self.port = s.getsockname()[1]
        self.issuer = f"http://{self.host}:{self.port}/realms/petitions"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- tokens ----------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims(self, user: str) -> dict[str, Any]:
        who = self.users[user]
        claims: dict[str, Any] = {
            "sub": user,
            "preferred_username": user,
            "name": who["name"],
            "bureau": who["bureau"],
            "realm_access": {"roles": [*PROVIDER_ROLES, who["role"]]},
        }
        if who.get("department"):
            claims["department"] = who["department"]
        return claims

    def mint(
        self,
        user: str,
        *,
        exp_in: int | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        **extra: Any,
    ) -> str:
        """An access token as the token endpoint issues it; the keywords make bad ones."""
        now = int(time.time())
        payload = {
            **self.claims(user),
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "azp": self.client_id,
            "iat": now,
            "exp": now + (self.access_ttl if exp_in is None else exp_in),
            "jti": secrets.token_hex(8),
            **extra,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def _id_token(self, user: str, nonce: str | None) -> str:
        now = int(time.time())
        payload = {
            **self.claims(user),
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + self.access_ttl,
            **({"nonce": nonce} if nonce else {}),
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    # -- endpoints ------------------------------------------------------------------------

    def _discovery(self, _: Request) -> Response:
        base = self.issuer + "/protocol/openid-connect"
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/auth",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/certs",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile"],
                "token_endpoint_auth_methods_supported": ["none"],
            }
        )

    def _certs(self, _: Request) -> Response:
        return JSONResponse(self.jwks())

    def _authorize_problem(self, q: dict[str, str]) -> str | None:
        if q.get("client_id") != self.client_id:
            return "unknown client_id"
        if q.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri not registered"
        if q.get("response_type") != "code":
            return "response_type must be code"
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return "PKCE with S256 is required"
        if "openid" not in q.get("scope", "").split():
            return "scope must include openid"
        return None

    async def _authorize(self, request: Request) -> Response:
        if request.method == "GET":
            q = dict(request.query_params)
            problem = self._authorize_problem(q)
            if problem:
                return HTMLResponse(f"<p>invalid_request: {html.escape(problem)}</p>", 400)
            hidden = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in q.items()
            )
            buttons = "".join(
                f'<button name="user" value="{html.escape(u)}">'
                f"{html.escape(who['name'])}（{html.escape(u)}）登录</button>"
                for u, who in self.users.items()
            )
            page = (
                '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                "<title>统一身份认证 Test identity provider</title></head><body><main>"
                "<h1>统一身份认证（测试）Test identity provider</h1>"
                f'<form method="post">{hidden}{buttons}</form></main></body></html>'
            )
            return HTMLResponse(page)
        form = await _form(request)
        problem = self._authorize_problem(form)
        if problem or form.get("user") not in self.users:
            return HTMLResponse(f"<p>invalid_request: {problem or 'unknown user'}</p>", 400)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            client_id=form["client_id"],
            redirect_uri=form["redirect_uri"],
            challenge=form["code_challenge"],
            user=form["user"],
            nonce=form.get("nonce"),
            scope=form.get("scope", ""),
        )
        answer = {"code": code, **({"state": form["state"]} if "state" in form else {})}
        return RedirectResponse(f"{form['redirect_uri']}?{urlencode(answer)}", status_code=302)

    def _refused(self, grant_type: str, error: str, pkce: bool = False) -> Response:
        self.token_requests.append(TokenRequest(grant_type, False, error, pkce))
        return JSONResponse({"error": error}, status_code=400)

    def _tokens(self, user: str, client: str, nonce: str | None, scope: str) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(24)
        self._refresh[refresh] = (user, client)
        return {
            "access_token": self.mint(user),
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh,
            "id_token": self._id_token(user, nonce),
            "scope": scope,
        }

    async def _token(self, request: Request) -> Response:
        form = await _form(request)
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)  # single use
            if grant is None:
                return self._refused(grant_type, "invalid_grant")
            if form.get("client_id") != grant.client_id:
                return self._refused(grant_type, "invalid_client")
            if form.get("redirect_uri") != grant.redirect_uri:
                return self._refused(grant_type, "invalid_grant")
            verifier = form.get("code_verifier", "")
            # RFC 7636 §4.1: 43-128 characters of the unreserved set.
            if not 43 <= len(verifier) <= 128 or s256(verifier) != grant.challenge:
                return self._refused(grant_type, "invalid_grant", pkce=True)
            self.token_requests.append(TokenRequest(grant_type, True, pkce_checked=True))
            return JSONResponse(self._tokens(grant.user, grant.client_id, grant.nonce, grant.scope))
        if grant_type == "refresh_token":
            held = self._refresh.pop(form.get("refresh_token", ""), None)
            if held is None or held[1] != form.get("client_id"):
                return self._refused(grant_type, "invalid_grant")
            self.token_requests.append(TokenRequest(grant_type, True))
            return JSONResponse(self._tokens(held[0], held[1], None, "openid"))
        return self._refused(grant_type, "unsupported_grant_type")

    # -- running --------------------------------------------------------------------------

    def app(self) -> Starlette:
        base = "/realms/petitions"
        oidc = f"{base}/protocol/openid-connect"
        return Starlette(
            routes=[
                Route(f"{base}/.well-known/openid-configuration", self._discovery),
                Route(f"{oidc}/certs", self._certs),
                Route(f"{oidc}/auth", self._authorize, methods=["GET", "POST"]),
                Route(f"{oidc}/token", self._token, methods=["POST"]),
            ],
            # The workbench calls discovery and the token endpoint from the browser, across
            # origins, as a real provider allows for its registered web origins.
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST"],
                    allow_headers=["*"],
                )
            ],
        )

    def __enter__(self) -> OidcProvider:
        config = uvicorn.Config(self.app(), host=self.host, port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "the test identity provider did not start"
            assert time.monotonic() < deadline, "the test identity provider did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
