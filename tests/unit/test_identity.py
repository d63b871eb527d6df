"""Identity and scope: token verification (and the attacks it must refuse), the local issuer,
settings, bureau scope, and the FastAPI dependencies (pure logic, no servers).

No `from __future__ import annotations`: the test app's routes name a local dependency in their
annotations, which FastAPI reads at run time."""

import base64
import hashlib
import hmac
import http.server
import json
import socket
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import jwt
import jwt.jwks_client
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm
from petitions.identity import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    AuthenticationError,
    ForbiddenError,
    IdentityConfigurationError,
    IdentitySettings,
    IdentityUnavailableError,
    LocalIssuer,
    Principal,
    RemoteJwks,
    Role,
    StaticJwks,
    TokenVerifier,
    authenticate,
    covers,
    ensure_scope,
    in_scope,
    install_auth_errors,
    is_bureau_code,
    jwk_thumbprint,
    verifier_from_settings,
)
from petitions.identity.__main__ import main as identity_cli

ROOT = Path(__file__).resolve().parents[2]


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "issuer-key.pem", create=True)


@pytest.fixture
def stranger(tmp_path: Path) -> LocalIssuer:
    """Another issuer, whose keys nobody trusts."""
    return LocalIssuer(tmp_path / "stranger-key.pem", create=True)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    public: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": jwk_thumbprint(public), "use": "sig"}


@pytest.fixture
def verifier(issuer: LocalIssuer) -> TokenVerifier:
    return TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": "u001",
        "role": "registrar",
        "bureau": "330102",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A token put together by hand, as an attacker would (PyJWT refuses to make these)."""
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in payload.items()}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def rejected(verifier: TokenVerifier, token: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    assert " / " in caught.value.message  # 中文 / English
    return caught.value


# -- verification ----------------------------------------------------------------------------


def test_a_minted_token_verifies_into_its_principal(
    issuer: LocalIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint("u001", Role.HANDLER, "330102", name="张三")
    principal = verifier.verify(token)
    assert principal == Principal(
        user="u001",
        role=Role.HANDLER,
        bureau="330102",
        name="张三",
        token_id=jwt.decode(token, options={"verify_signature": False})["jti"],
    )
    assert principal.token_id


def test_rs256_is_accepted_with_an_rsa_key(issuer: LocalIssuer, rsa_key: rsa.RSAPrivateKey) -> None:
    jwk = rsa_jwk(rsa_key)
    verifier = TokenVerifier(
        DEV_ISSUER, DEV_AUDIENCE, StaticJwks({"keys": [*issuer.jwks()["keys"], jwk]})
    )
    token = jwt.encode(claims(role="leader"), rsa_key, "RS256", headers={"kid": jwk["kid"]})
    assert verifier.verify(token).role is Role.LEADER


def test_alg_none_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = forge({"alg": "none", "typ": "JWT", "kid": issuer.kid}, claims(), lambda _: b"")
    assert rejected(verifier, token).code == "token_algorithm"


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key_is_rejected(
    rsa_key: rsa.RSAPrivateKey, secret_form: str
) -> None:
    """Key confusion: the attacker knows the public key and uses it as an HMAC secret, hoping
    the verifier picks the algorithm from the token."""
    jwk = rsa_jwk(rsa_key)
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks({"keys": [jwk]}))
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secret = public_pem if secret_form == "pem" else json.dumps(jwk).encode()
    token = forge(
        {"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]},
        claims(role="admin", bureau="3301"),
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )
    assert rejected(verifier, token).code == "token_algorithm"


def test_a_token_whose_alg_does_not_fit_its_key_is_rejected(
    issuer: LocalIssuer, rsa_key: rsa.RSAPrivateKey, verifier: TokenVerifier
) -> None:
    # RS256 named in the header, but the kid is the issuer's EC key.
    token = jwt.encode(claims(), rsa_key, "RS256", headers={"kid": issuer.kid})
    assert rejected(verifier, token).code == "token_algorithm"


def test_a_wrong_audience_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint("u001", "registrar", "330102", audience="another-system")
    assert rejected(verifier, token).code == "token_wrong_audience"


def test_a_wrong_issuer_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint("u001", "registrar", "330102", issuer="https://evil.example/")
    assert rejected(verifier, token).code == "token_wrong_issuer"


def test_an_expired_token_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint("u001", "registrar", "330102", ttl=timedelta(minutes=-5))
    assert rejected(verifier, token).code == "token_expired"


def test_a_just_expired_token_is_within_the_leeway(
    issuer: LocalIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.mint("u001", "registrar", "330102", ttl=timedelta(seconds=-10))
    assert verifier.verify(token).user == "u001"


def test_a_token_not_yet_valid_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    token = jwt.encode(claims(nbf=later), issuer.private_key, "ES256", headers={"kid": issuer.kid})
    assert rejected(verifier, token).code == "token_not_yet_valid"


def test_an_unknown_key_id_is_rejected(stranger: LocalIssuer, verifier: TokenVerifier) -> None:
    token = stranger.mint("u001", "admin", "3301")
    assert rejected(verifier, token).code == "token_unknown_key"


def test_a_token_without_a_key_id_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), issuer.private_key, "ES256")
    assert rejected(verifier, token).code == "token_unknown_key"


def test_a_token_signed_by_another_key_is_rejected(
    issuer: LocalIssuer, stranger: LocalIssuer, verifier: TokenVerifier
) -> None:
    # The stranger claims the trusted key's kid; only the signature can tell.
    token = jwt.encode(
        claims(role="admin"), stranger.private_key, "ES256", headers={"kid": issuer.kid}
    )
    assert rejected(verifier, token).code == "token_bad_signature"


def test_an_altered_token_is_rejected(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    header, _, signature = issuer.mint("u001", "registrar", "330102").split(".")
    payload = b64(json.dumps(claims(role="admin", bureau="3301"), default=str).encode())
    assert rejected(verifier, f"{header}.{payload}.{signature}").code == "token_bad_signature"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_rejected(verifier: TokenVerifier, token: str) -> None:
    assert rejected(verifier, token).code == "token_malformed"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"role": "superuser"}, "role_unknown"),
        ({"role": None}, "role_unknown"),
        # A role list (Keycloak) must hold exactly one role of this system.
        ({"role": ["offline_access"]}, "role_unknown"),
        ({"role": ["admin", "auditor"]}, "role_ambiguous"),
        ({"bureau": None}, "token_claims"),
        ({"bureau": ""}, "token_claims"),
        ({"bureau": 330102}, "token_claims"),
        ({"sub": None}, "token_claims"),
        ({"exp": None}, "token_claims"),
    ],
)
def test_missing_or_wrong_claims_are_rejected(
    issuer: LocalIssuer, verifier: TokenVerifier, changes: dict[str, Any], code: str
) -> None:
    token = jwt.encode(claims(**changes), issuer.private_key, "ES256", headers={"kid": issuer.kid})
    assert rejected(verifier, token).code == code


def test_an_unknown_role_is_named_in_the_message(
    issuer: LocalIssuer, verifier: TokenVerifier
) -> None:
    token = jwt.encode(
        claims(role="superuser"), issuer.private_key, "ES256", headers={"kid": issuer.kid}
    )
    assert "'superuser'" in rejected(verifier, token).message


def test_a_jwks_without_usable_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="no signing key"):
        StaticJwks({"keys": [{"kty": "oct", "k": b64(b"secret"), "kid": "h"}]})


# -- the remote JWKS: rotation and kid spraying ------------------------------------------------


class JwksServer:
    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"


@pytest.fixture
def jwks_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JwksServer]:
    for name in ("NO_PROXY", "no_proxy"):  # urllib would send 127.0.0.1 to a configured proxy
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    server = JwksServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """PyJWKClient's clock for its refresh cooldown, moved by hand."""
    now = SimpleNamespace(t=1000.0)
    monkeypatch.setattr(jwt.jwks_client, "time", SimpleNamespace(monotonic=lambda: now.t))
    return now


def test_a_rotated_key_is_fetched_but_made_up_kids_refetch_at_most_once_a_minute(
    jwks_server: JwksServer, issuer: LocalIssuer, stranger: LocalIssuer, clock: SimpleNamespace
) -> None:
    jwks_server.jwks = issuer.jwks()
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, RemoteJwks(jwks_server.url))
    assert verifier.verify(issuer.mint("u001", "registrar", "330102")).user == "u001"
    assert jwks_server.hits == 1

    # The issuer rotates to a new key. Within a minute of the last fetch we do not look again.
    jwks_server.jwks = {"keys": issuer.jwks()["keys"] + stranger.jwks()["keys"]}
    rotated = stranger.mint("u002", "handler", "330102")
    assert rejected(verifier, rotated).code == "token_unknown_key"
    assert jwks_server.hits == 1
    clock.t += 61
    assert verifier.verify(rotated).user == "u002"
    assert jwks_server.hits == 2

    # Tokens with made-up kids: one refetch a minute, however many arrive.
    def sprayed() -> str:
        return jwt.encode(claims(), issuer.private_key, "ES256", headers={"kid": uuid.uuid4().hex})

    for _ in range(20):
        assert rejected(verifier, sprayed()).code == "token_unknown_key"
    assert jwks_server.hits == 2
    clock.t += 61
    for _ in range(20):
        assert rejected(verifier, sprayed()).code == "token_unknown_key"
    assert jwks_server.hits == 3


def test_an_unreachable_jwks_endpoint_is_503_not_401(issuer: LocalIssuer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = TokenVerifier(
        DEV_ISSUER, DEV_AUDIENCE, RemoteJwks(f"http://127.0.0.1:{port}/jwks", timeout=2)
    )
    with pytest.raises(IdentityUnavailableError) as caught:
        verifier.verify(issuer.mint("u001", "registrar", "330102"))
    assert caught.value.status == 503


# -- the local issuer and its command ----------------------------------------------------------


def test_the_issuer_key_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "issuer-key.pem"
    first = LocalIssuer(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = LocalIssuer(path)
    assert again.kid == first.kid
    (key,) = again.jwks()["keys"]
    assert "d" not in key
    assert key["kid"] == jwk_thumbprint(key)
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")


def test_the_key_id_is_the_rfc_7638_thumbprint() -> None:
    # The example of RFC 7638 §3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_missing_key_file_is_not_created_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--create"):
        LocalIssuer(tmp_path / "nope.pem")
    assert not (tmp_path / "nope.pem").exists()


def test_a_key_that_is_not_p256_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p384.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="P-256"):
        LocalIssuer(path)


def test_the_command_mints_tokens_and_prints_the_jwks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(tmp_path / "issuer-key.pem")
    common = ["--user", "u001", "--role", "importer", "--bureau", "330102", "--name", "张三"]
    assert identity_cli(["mint", "--key", key, "--create", *common, "--hours", "1"]) == 0
    token = capsys.readouterr().out.strip()
    assert identity_cli(["jwks", "--key", key]) == 0
    jwks = json.loads(capsys.readouterr().out)
    principal = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(jwks)).verify(token)
    assert (principal.name, principal.role, principal.may_backdate) == ("张三", "importer", True)


def test_the_command_explains_a_missing_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert identity_cli(["jwks", "--key", str(tmp_path / "nope.pem")]) == 1
    assert "--create" in capsys.readouterr().err


def test_the_command_runs_as_a_module(issuer: LocalIssuer, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "petitions.identity",
            "jwks",
            "--key",
            str(tmp_path / "issuer-key.pem"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert json.loads(out) == issuer.jwks()


# -- settings ------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OIDC_ISSUER", "OIDC_AUDIENCE", "JWKS_URL", "JWKS_FILE", "OIDC_ROLE_CLAIM"):
        monkeypatch.delenv(f"PETITIONS_{name}", raising=False)
    return monkeypatch


def test_settings_from_the_environment_give_a_working_verifier(
    clean_env: pytest.MonkeyPatch, issuer: LocalIssuer, tmp_path: Path
) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(issuer.jwks()))
    clean_env.setenv("PETITIONS_OIDC_ISSUER", DEV_ISSUER)
    clean_env.setenv("PETITIONS_JWKS_FILE", str(jwks_file))
    clean_env.setenv("PETITIONS_JWKS_URL", "https://idp.example/jwks")  # the file wins
    verifier = verifier_from_settings(IdentitySettings())
    assert isinstance(verifier.jwks, StaticJwks)
    assert verifier.verify(issuer.mint("u001", "auditor", "3301")).role is Role.AUDITOR


def test_settings_with_a_jwks_url_fetch_remotely(clean_env: pytest.MonkeyPatch) -> None:
    settings = IdentitySettings(oidc_issuer="https://idp.example", jwks_url="https://idp.example/k")
    verifier = verifier_from_settings(settings)
    assert isinstance(verifier.jwks, RemoteJwks)
    assert (verifier.issuer, verifier.audience) == ("https://idp.example", "petitions")


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"jwks_url": "https://idp.example/k"}, "PETITIONS_OIDC_ISSUER"),
        # Without keys configured they are discovered from the issuer, which must be a URL.
        ({"oidc_issuer": "petitions-dev"}, "PETITIONS_JWKS_URL"),
        ({"oidc_issuer": DEV_ISSUER, "jwks_file": "/nonexistent/jwks.json"}, "PETITIONS_JWKS_FILE"),
        ({"oidc_issuer": DEV_ISSUER, "jwks_url": "file:///etc/passwd"}, "PETITIONS_JWKS_URL"),
    ],
)
def test_incomplete_settings_say_what_to_set(
    clean_env: pytest.MonkeyPatch, given: dict[str, Any], named: str
) -> None:
    with pytest.raises(IdentityConfigurationError, match=named):
        verifier_from_settings(IdentitySettings(**given))


# -- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bureau", "other", "expected"),
    [
        ("3301", "3301", True),
        ("3301", "330102", True),
        ("330102", "330102", True),
        ("330102", "330103", False),
        ("330102", "3301", False),
        ("", "330102", False),
        ("330102", "", False),
    ],
)
def test_default_scope_is_the_code_prefix(bureau: str, other: str, expected: bool) -> None:
    assert covers(bureau, other) is expected


def test_scope_may_be_a_mapping_or_a_callable() -> None:
    above = {"A": ["B", "C"]}
    assert in_scope("A", "A", above)
    assert in_scope("A", "B", above)
    assert not in_scope("B", "A", above)
    assert not in_scope("3301", "330102", lambda a, b: a == b)


def test_ensure_scope_forbids_another_bureau() -> None:
    handler = Principal(user="u1", role=Role.HANDLER, bureau="330102")
    ensure_scope(handler, "330102")
    with pytest.raises(ForbiddenError) as caught:
        ensure_scope(handler, "330103")
    assert caught.value.code == "bureau_out_of_scope"
    assert caught.value.status == 403
    ensure_scope(Principal(user="l1", role=Role.LEADER, bureau="3301"), "330103")


def test_a_principal_is_frozen_and_needs_a_bureau_code() -> None:
    principal = Principal(user="u1", role=Role.REGISTRAR, bureau="330102")
    with pytest.raises(FrozenInstanceError):
        # The assignment mypy refuses (a frozen dataclass) is what this test makes at run time.
        principal.bureau = "3301"  # type: ignore[misc]
    with pytest.raises(ValueError, match="bureau"):
        Principal(user="u1", role=Role.ADMIN, bureau="")
    assert not principal.may_backdate
    assert is_bureau_code("330102")
    assert not is_bureau_code("33 01")
    assert not is_bureau_code(3301)


def test_every_role_has_a_chinese_label() -> None:
    assert Role.SUB_BUREAU_HEAD.label == "分县局局长"
    assert all(role.label for role in Role)


# -- FastAPI ---------------------------------------------------------------------------------


class Unavailable:
    def key_for(self, kid: str) -> PyJWK | None:
        raise IdentityUnavailableError("identity_unavailable", "身份平台不可用 / unavailable")


def make_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_auth_errors(app)
    auth = authenticate(lambda: verifier)

    @app.get("/me")
    async def me(who: Annotated[Principal, Depends(auth)]) -> dict[str, Any]:
        return {"user": who.user, "role": who.role, "bureau": who.bureau, "name": who.name}

    @app.post("/petitions")
    async def register(
        who: Annotated[Principal, Depends(auth.require(Role.REGISTRAR, Role.PETITION_OFFICE))],
    ) -> dict[str, str]:
        return {"by": who.user}

    @app.get("/bureaus/{bureau}/cases")
    async def cases(bureau: str, who: Annotated[Principal, Depends(auth)]) -> dict[str, str]:
        ensure_scope(who, bureau)
        return {"bureau": bureau}

    return app


@pytest.fixture
async def client(verifier: TokenVerifier) -> Any:
    transport = httpx.ASGITransport(app=make_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code
    chinese, _, english = body["message"].partition(" / ")
    assert chinese
    assert english


async def test_a_request_gets_its_principal(client: httpx.AsyncClient, issuer: LocalIssuer) -> None:
    response = await client.get("/me", headers=bearer(issuer.mint("u9", "leader", "3301", "李四")))
    assert response.status_code == 200
    assert response.json() == {"user": "u9", "role": "leader", "bureau": "3301", "name": "李四"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dTpw"}, {"Authorization": ""}])
async def test_no_token_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/me", headers=headers)
    assert_error(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_bad_token_is_401_saying_what_is_wrong(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.get("/me", headers=bearer("x.y.z"))
    assert_error(response, 401, "token_malformed")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    expired = issuer.mint("u001", "registrar", "330102", ttl=timedelta(hours=-1))
    response = await client.get("/me", headers=bearer(expired))
    assert_error(response, 401, "token_expired")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_wrong_role_is_403_naming_the_roles_allowed(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post("/petitions", headers=bearer(issuer.mint("h1", "handler", "3301")))
    assert_error(response, 403, "role_forbidden")
    assert "WWW-Authenticate" not in response.headers
    message = response.json()["message"]
    assert all(word in message for word in ("登记员", "信访科", "registrar", "petition_office"))
    ok = await client.post("/petitions", headers=bearer(issuer.mint("r1", "registrar", "330102")))
    assert ok.json() == {"by": "r1"}


async def test_a_role_check_still_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/petitions"), 401, "token_missing")


async def test_a_bureau_outside_the_token_scope_is_403(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    sub_bureau = bearer(issuer.mint("h1", "handler", "330102"))
    assert (await client.get("/bureaus/330102/cases", headers=sub_bureau)).status_code == 200
    response = await client.get("/bureaus/330103/cases", headers=sub_bureau)
    assert_error(response, 403, "bureau_out_of_scope")
    city = bearer(issuer.mint("l1", "leader", "3301"))
    assert (await client.get("/bureaus/330103/cases", headers=city)).status_code == 200


async def test_an_unreachable_identity_platform_is_503(issuer: LocalIssuer) -> None:
    app = make_app(TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, Unavailable()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=bearer(issuer.mint("u1", "admin", "3301")))
    assert_error(response, 503, "identity_unavailable")
    assert "WWW-Authenticate" not in response.headers
