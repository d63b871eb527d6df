"""A token issuer for development and tests: an EC P-256 key in a PEM file, its public JWKS, and
tokens minted with it. A deployment uses its unified identity platform instead; the services
cannot tell the difference, they only see a JWKS and ES256 tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from petitions.identity.principal import Role, is_bureau_code, is_department_code

DEV_ISSUER = "http://127.0.0.1/petitions-dev-issuer"
DEV_AUDIENCE = "petitions"
DEFAULT_TTL = timedelta(hours=8)

# RFC 7638 §3.2: the members that define each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK: a key id that is the same wherever the
    key is loaded and changes exactly when the key does."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class LocalIssuer:
    """Loads the signing key from ``private_key_path``; with ``create=True`` a missing file is
    generated (mode 0600) first."""

    def __init__(self, private_key_path: Path | str, *, create: bool = False) -> None:
        path = Path(private_key_path)
        if not path.exists():
            if not create:
                raise FileNotFoundError(
                    f"签发密钥文件不存在 {path} / The issuer key file {path} does not exist; "
                    "create it with --create (or LocalIssuer(path, create=True))"
                )
            _write_new_key(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(
                f"签发密钥必须是 EC P-256 私钥 {path} / {path} is not an EC P-256 private key"
            )
        self.private_key = key
        public: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.kid = jwk_thumbprint(public)
        self._public_jwk = {**public, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def jwks(self) -> dict[str, Any]:
        """The public key set to give verifiers (no private part)."""
        return {"keys": [dict(self._public_jwk)]}

    def mint(
        self,
        user: str,
        role: Role | str,
        bureau: str,
        name: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
        audience: str = DEV_AUDIENCE,
        issuer: str = DEV_ISSUER,
        department: str | None = None,
    ) -> str:
        """A signed token for ``user``; a negative ``ttl`` makes an already expired one."""
        if not is_bureau_code(bureau):
            raise ValueError(f"单位代码无效 / not a bureau code: {bureau!r}")
        if department is not None and not is_department_code(department):
            raise ValueError(f"部门代码无效 / not a department code: {department!r}")
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": user,
            "role": str(Role(role)),
            "bureau": bureau,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if name is not None:
            claims["name"] = name
        if department is not None:
            claims["department"] = department
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})


def _write_new_key(path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 in one step, so the key is never readable by others, not even briefly.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first; use theirs
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
