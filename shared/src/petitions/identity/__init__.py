"""Who is calling and what they may touch: bearer JWTs from the OIDC issuer (a deployment's
unified identity platform, or :class:`LocalIssuer` in development) verified into a
:class:`Principal` with a role and a bureau, and bureau scope checks."""

from petitions.identity.errors import (
    AuthenticationError,
    ForbiddenError,
    IdentityError,
    IdentityUnavailableError,
)
from petitions.identity.fastapi import Authenticator, authenticate, install_auth_errors
from petitions.identity.local_issuer import DEV_AUDIENCE, DEV_ISSUER, LocalIssuer, jwk_thumbprint
from petitions.identity.principal import (
    Covers,
    Principal,
    Role,
    Scope,
    covers,
    ensure_scope,
    in_scope,
    is_bureau_code,
    is_department_code,
)
from petitions.identity.settings import (
    IdentityConfigurationError,
    IdentitySettings,
    verifier_from_settings,
)
from petitions.identity.verify import (
    ALLOWED_ALGORITHMS,
    ClaimNames,
    DiscoveredJwks,
    JwksSource,
    RemoteJwks,
    StaticJwks,
    TokenVerifier,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "AuthenticationError",
    "Authenticator",
    "ClaimNames",
    "Covers",
    "DiscoveredJwks",
    "ForbiddenError",
    "IdentityConfigurationError",
    "IdentityError",
    "IdentitySettings",
    "IdentityUnavailableError",
    "JwksSource",
    "LocalIssuer",
    "Principal",
    "RemoteJwks",
    "Role",
    "Scope",
    "StaticJwks",
    "TokenVerifier",
    "authenticate",
    "covers",
    "ensure_scope",
    "in_scope",
    "install_auth_errors",
    "is_bureau_code",
    "is_department_code",
    "jwk_thumbprint",
    "verifier_from_settings",
]
