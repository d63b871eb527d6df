"""Where tokens come from, read from the environment (prefix ``PETITIONS_``)."""

from __future__ import annotations

from pathlib import Path

import jwt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from petitions.identity.local_issuer import DEV_AUDIENCE, DEV_ISSUER
from petitions.identity.verify import RemoteJwks, StaticJwks, TokenVerifier


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
        default=None, description="The identity platform's JWKS endpoint (deployments)."
    )
    jwks_file: Path | None = Field(
        default=None,
        description=(
            "A JWKS JSON file (development: `python -m petitions.identity jwks`); "
            "wins over jwks_url."
        ),
    )


def verifier_from_settings(settings: IdentitySettings) -> TokenVerifier:
    """The verifier the settings describe; raises :class:`IdentityConfigurationError` if they do
    not name an issuer and its keys."""
    if not settings.oidc_issuer:
        raise IdentityConfigurationError(
            "未配置令牌签发方 / PETITIONS_OIDC_ISSUER is not set: set it to the identity "
            f"platform's issuer (development: {DEV_ISSUER})"
        )
    if settings.jwks_file is not None:
        try:
            jwks: StaticJwks | RemoteJwks = StaticJwks.from_file(settings.jwks_file)
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
        raise IdentityConfigurationError(
            "未配置令牌公钥 / Neither PETITIONS_JWKS_URL (the identity platform's JWKS endpoint) "
            "nor PETITIONS_JWKS_FILE (development) is set"
        )
    return TokenVerifier(settings.oidc_issuer, settings.oidc_audience, jwks)
