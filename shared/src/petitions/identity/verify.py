"""Bearer tokens to principals: signature against the issuer's JWKS, then issuer, audience and
expiry, then the petition claims (``sub``, ``role``, ``bureau``, optional ``name``, ``jti`` and
``department``)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from petitions.identity.errors import AuthenticationError, IdentityUnavailableError
from petitions.identity.principal import Principal, Role, is_bureau_code, is_department_code

# Asymmetric only, fixed here rather than taken from the token or the key set: an allowlist that
# follows the token is how "alg": "none" and HS256-with-the-public-key tokens get accepted.
ALLOWED_ALGORITHMS = ("RS256", "ES256")

_ROLE_VALUES = frozenset(role.value for role in Role)

_WRONG_ALGORITHM = (
    "令牌的签名算法不被接受",
    f"The token's algorithm is not accepted (only {', '.join(ALLOWED_ALGORITHMS)})",
)

# Checked in order: subclasses before their bases.
_REJECTIONS: tuple[tuple[type[jwt.PyJWTError], str, tuple[str, str]], ...] = (
    (jwt.ExpiredSignatureError, "token_expired", ("令牌已过期", "The token has expired")),
    (
        jwt.ImmatureSignatureError,
        "token_not_yet_valid",
        ("令牌尚未生效，请检查时钟", "The token is not valid yet (check the clocks)"),
    ),
    (
        jwt.InvalidAudienceError,
        "token_wrong_audience",
        ("令牌不是签发给本系统的", "The token was issued for another system (wrong audience)"),
    ),
    (
        jwt.InvalidIssuerError,
        "token_wrong_issuer",
        (
            "令牌不是由本系统信任的身份平台签发的",
            "The token comes from an issuer this system does not trust",
        ),
    ),
    (
        jwt.MissingRequiredClaimError,
        "token_claims",
        (
            "令牌缺少必需的声明 (sub, iss, aud, exp)",
            "The token lacks a required claim (sub, iss, aud, exp)",
        ),
    ),
    (
        jwt.InvalidSignatureError,
        "token_bad_signature",
        (
            "令牌签名无效，可能被篡改或由不受信任的密钥签名",
            "The token's signature does not verify: it was altered or signed by a key this "
            "system does not trust",
        ),
    ),
    (jwt.InvalidAlgorithmError, "token_algorithm", _WRONG_ALGORITHM),
    (jwt.PyJWTError, "token_invalid", ("令牌无效", "The token is not valid")),
)


def rejected(code: str, zh: str, en: str) -> AuthenticationError:
    """A 401 whose message ends with what to do about it."""
    return AuthenticationError(
        code, f"{zh}，请重新登录获取新令牌 / {en}; sign in again to get a new token"
    )


class JwksSource(Protocol):
    """Where the issuer's public keys come from."""

    def key_for(self, kid: str) -> PyJWK | None:
        """The signing key with this key id, or None if the issuer has no such key.

        Raises :class:`IdentityUnavailableError` if the keys cannot be fetched."""
        ...


def _signing_keys(keys: PyJWKSet) -> dict[str, PyJWK]:
    return {
        key.key_id: key
        for key in keys.keys
        if key.key_id
        and key.public_key_use in ("sig", None)
        and key.algorithm_name in ALLOWED_ALGORITHMS
    }


class StaticJwks:
    """A fixed key set (development: the local issuer's JWKS written to a file; tests)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = _signing_keys(PyJWKSet.from_dict(jwks))
        if not self._keys:
            raise ValueError(
                f"JWKS 中没有可用的签名公钥 / The JWKS has no signing key with a kid for "
                f"{' or '.join(ALLOWED_ALGORITHMS)}"
            )

    @classmethod
    def from_file(cls, path: Path | str) -> StaticJwks:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def key_for(self, kid: str) -> PyJWK | None:
        return self._keys.get(kid)


class RemoteJwks:
    """The issuer's JWKS endpoint, cached. An unknown kid refetches the set once (the issuer may
    have rotated its key), but never within a minute of the last fetch, so a stream of tokens
    with made-up kids cannot make us hammer the identity platform."""

    REFRESH_COOLDOWN_SECONDS = 60.0

    def __init__(self, url: str, cache_seconds: float = 300, timeout: float = 5) -> None:
        self.url = url
        self._client = PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=cache_seconds,
            timeout=timeout,
            cooldown_duration=self.REFRESH_COOLDOWN_SECONDS,
        )

    def key_for(self, kid: str) -> PyJWK | None:
        try:
            key = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise IdentityUnavailableError(
                "identity_unavailable",
                "暂时无法从身份平台获取公钥，请稍后重试 / The identity platform's keys cannot be "
                "fetched right now; try again shortly",
            ) from None
        except (jwt.PyJWKClientError, jwt.PyJWKSetError):
            return None
        return key if key.algorithm_name in ALLOWED_ALGORITHMS else None


class DiscoveredJwks:
    """The issuer's keys found through its discovery document (OpenID Connect Discovery 1.0):
    ``{issuer}/.well-known/openid-configuration`` names ``jwks_uri``, which is then read and
    cached as :class:`RemoteJwks` does. The document is fetched on the first token, not at
    start-up, so a service starts while the identity provider is down (requests then get 503).
    Its ``issuer`` must equal the configured one exactly (§4.3: otherwise another provider's
    document could name its own keys)."""

    RETRY_SECONDS = 30.0

    def __init__(self, issuer: str, cache_seconds: float = 300, timeout: float = 5) -> None:
        if not issuer.startswith(("https://", "http://")):
            raise ValueError(f"the issuer {issuer!r} is not an http(s) URL")
        self.issuer = issuer
        self.url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._keys: RemoteJwks | None = None
        self._failed_at = -float("inf")
        self._lock = threading.Lock()

    def _unavailable(self, why: str) -> IdentityUnavailableError:
        return IdentityUnavailableError(
            "identity_unavailable",
            "暂时无法读取身份平台的发现文档，请稍后重试 / The identity platform's discovery "
            f"document cannot be read right now ({why}); try again shortly",
        )

    def _discover(self) -> RemoteJwks:
        with self._lock:
            if self._keys is not None:
                return self._keys
            # A provider that is down is asked again at most every RETRY_SECONDS.
            if time.monotonic() - self._failed_at < self.RETRY_SECONDS:
                raise self._unavailable("recent failure")
            try:
                # Only http(s): the issuer's scheme is checked in __init__.
                request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
                with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                    document = json.loads(answer.read())
            except (OSError, ValueError) as exc:
                self._failed_at = time.monotonic()
                raise self._unavailable(type(exc).__name__) from None
            jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
            if not isinstance(document, dict) or document.get("issuer") != self.issuer:
                self._failed_at = time.monotonic()
                raise self._unavailable("its issuer differs from PETITIONS_OIDC_ISSUER")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                self._failed_at = time.monotonic()
                raise self._unavailable("it names no http(s) jwks_uri")
            self._keys = RemoteJwks(jwks_uri, self._cache_seconds, self._timeout)
            return self._keys

    @property
    def jwks_uri(self) -> str | None:
        """Where the keys are, once discovered."""
        return self._keys.url if self._keys is not None else None

    def key_for(self, kid: str) -> PyJWK | None:
        return self._discover().key_for(kid)


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """Which claims carry the petition attributes. Identity providers differ: Keycloak puts realm
    roles in ``realm_access.roles`` (a list), others in a flat custom claim. A dotted name walks
    into nested objects. Only the role may be a list (searched for the one value that is a role
    of this system); bureau and department must be single strings (Keycloak: a user attribute
    mapper with Multivalued off), so that nothing is silently picked out of a list."""

    role: str = "role"
    bureau: str = "bureau"
    department: str = "department"
    name: str = "name"

    @staticmethod
    def read(claims: dict[str, Any], path: str) -> Any:
        value: Any = claims
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


class TokenVerifier:
    """Turns a bearer token into a :class:`Principal`, or raises :class:`AuthenticationError`.

    ``leeway`` (seconds) absorbs clock differences between the issuer and this machine."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JwksSource,
        leeway: float = 30,
        claims: ClaimNames | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = leeway
        self.claims = claims or ClaimNames()

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise rejected("token_malformed", "令牌格式不正确", "The token is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise rejected("token_algorithm", *_WRONG_ALGORITHM)
        if not isinstance(kid, str) or not kid:
            raise rejected(
                "token_unknown_key", "令牌未注明签名密钥 (kid)", "The token names no key id"
            )
        key = self.jwks.key_for(kid)
        if key is None:
            raise rejected(
                "token_unknown_key",
                "令牌的签名密钥不属于受信任的身份平台",
                "The token was signed with a key the trusted issuer does not publish (unknown kid)",
            )
        try:
            # PyJWT also refuses a header alg that differs from the key's own algorithm, so an
            # ES256 key never verifies an RS256 token and vice versa.
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:
            code, (zh, en) = next((c, m) for t, c, m in _REJECTIONS if isinstance(exc, t))
            raise rejected(code, zh, en) from None
        return self._principal(claims, self.claims)

    @staticmethod
    def _role(value: Any) -> Role:
        if isinstance(value, list):
            # Keycloak-style role lists also hold the provider's own roles (offline_access...):
            # exactly one must be ours, or the token does not say who the user is here.
            ours = {Role(v) for v in value if v in _ROLE_VALUES}
            if len(ours) == 1:
                return ours.pop()
            if len(ours) > 1:
                raise AuthenticationError(
                    "role_ambiguous",
                    f"令牌中有多个本系统角色（{'、'.join(sorted(r.label for r in ours))}），"
                    "请联系身份平台管理员只保留一个 / The token carries several roles of this "
                    f"system ({', '.join(sorted(ours))}); ask the identity platform's "
                    "administrator to leave one",
                )
            value = ""
        return Role(value if isinstance(value, str) else "")

    @staticmethod
    def _principal(claims: dict[str, Any], names: ClaimNames | None = None) -> Principal:
        names = names or ClaimNames()
        user = claims.get("sub")
        bureau = ClaimNames.read(claims, names.bureau)
        role_value = ClaimNames.read(claims, names.role)
        if not isinstance(user, str) or not user:
            raise rejected("token_claims", "令牌未注明用户 (sub)", "The token names no user (sub)")
        try:
            role = TokenVerifier._role(role_value)
        except ValueError:
            shown = f"{role_value!r:.40}"
            raise AuthenticationError(
                "role_unknown",
                f"令牌中的角色 {shown} 不是本系统的角色，请联系身份平台管理员分配角色 / "
                f"The token's role {shown} is not a role of this system "
                f"({', '.join(Role)}); ask the identity platform's administrator to assign one",
            ) from None
        if not is_bureau_code(bureau):
            raise rejected(
                "token_claims",
                "令牌未注明有效的单位代码 (bureau)",
                "The token names no valid bureau code (bureau)",
            )
        department = ClaimNames.read(claims, names.department)
        if department == "":  # an attribute the provider sends empty for most users
            department = None
        if department is not None and not is_department_code(department):
            # Not dropped like a bad name: without it an accusation against the user's
            # department would show to them (Art. 30).
            raise rejected(
                "token_claims",
                "令牌中的部门代码 (department) 无效",
                "The token's department code (department) is not valid",
            )
        name, jti = ClaimNames.read(claims, names.name), claims.get("jti")
        return Principal(
            user=user,
            role=role,
            bureau=str(bureau),
            # The display name must not lock anyone out: a malformed one is just left out.
            name=name if isinstance(name, str) and name else None,
            token_id=jti if isinstance(jti, str) else None,
            department=department,
        )
