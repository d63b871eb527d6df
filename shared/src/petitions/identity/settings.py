"""Where tokens come from, read from the environment (prefix ``PETITIONS_``)."""

from __future__ import annotations

from pathlib import Path

import jwt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from petitions.identity.local_issuer import DEV_AUDIENCE, DEV_ISSUER
from petitions.identity.verify import (
    ClaimNames,
    DiscoveredJwks,
    JwksSource,
    RemoteJwks,
    StaticJwks,
    TokenVerifier,
)


class IdentityConfigurationError(Exception):
    """The identity settings do not say whom to trust."""


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore", frozen=True)

    oidc_issuer: str | None = Field(
        default=None,
        description=f"Issuer (iss) tokens must carry. Development: {DEV_ISSUER}.",
    )
    oidc_audience: str = Field(default=DEV_AUDIENCE, description="Audience (aud) tokens must name.")
    jwks_url: str | None = Field(
        default=None,
        description=(
            "The identity platform's JWKS endpoint. Unset (with no jwks_file): found through "
            "the issuer's discovery document, {issuer}/.well-known/openid-configuration."
        ),
    )
    jwks_file: Path | None = Field(
        default=None,
        description=(
            "A JWKS JSON file (development: `python -m petitions.identity jwks`); "
            "wins over jwks_url."
        ),
    )
    # Which claims carry the petition attributes (dotted for nested objects, e.g. Keycloak's
    # realm roles: realm_access.roles).
    oidc_role_claim: str = Field(default="role", description="Claim with the user's role.")
    oidc_bureau_claim: str = Field(default="bureau", description="Claim with the bureau code.")
    oidc_department_claim: str = Field(
        default="department",
        description="Claim with the city department (部门) code, the user's unit; optional.",
    )
    oidc_name_claim: str = Field(default="name", description="Claim with the display name.")


def verifier_from_settings(settings: IdentitySettings) -> TokenVerifier:
    """The verifier the settings describe; raises :class:`IdentityConfigurationError` if they do
    not name an issuer and its keys."""
    if not settings.oidc_issuer:
        raise IdentityConfigurationError(
            "未配置令牌签发方 / PETITIONS_OIDC_ISSUER is not set: set it to the identity "
            f"platform's issuer (development: {DEV_ISSUER})"
        )
    jwks: JwksSource
    if settings.jwks_file is not None:
        try:
            jwks = StaticJwks.from_file(settings.jwks_file)
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise IdentityConfigurationError(
                f"无法读取公钥文件 {settings.jwks_file} / PETITIONS_JWKS_FILE cannot be read as a "
                f"JWKS ({exc}); write it with `python -m petitions.identity jwks --key KEY.pem`"
            ) from None
    elif settings.jwks_url:
        try:
            jwks = RemoteJwks(settings.jwks_url)
        except jwt.PyJWTError as exc:
            raise IdentityConfigurationError(
                f"公钥地址无效 / PETITIONS_JWKS_URL is not usable: {exc}"
            ) from None
    else:
        try:
            jwks = DiscoveredJwks(settings.oidc_issuer)
        except ValueError:
            raise IdentityConfigurationError(
                "未配置令牌公钥 / PETITIONS_OIDC_ISSUER is not an http(s) URL, so its keys cannot "
                "be discovered: set PETITIONS_JWKS_URL (the identity platform's JWKS endpoint) "
                "or PETITIONS_JWKS_FILE (development)"
            ) from None
    claims = ClaimNames(
        role=settings.oidc_role_claim,
        bureau=settings.oidc_bureau_claim,
        department=settings.oidc_department_claim,
        name=settings.oidc_name_claim,
    )
    return TokenVerifier(settings.oidc_issuer, settings.oidc_audience, jwks, claims=claims)
