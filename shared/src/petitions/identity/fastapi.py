"""FastAPI glue: a dependency that turns the bearer token into a :class:`Principal`, role checks,
and the JSON error responses (401 with ``WWW-Authenticate: Bearer``, 403, 503).

Usage in a composition root::

    auth = authenticate(lambda: holder["verifier"])
    install_auth_errors(app)

    @app.post("/petitions")
    async def register(who: Annotated[Principal, Depends(auth.require(Role.REGISTRAR))]): ...
"""

# No `from __future__ import annotations`: FastAPI reads dependency annotations at run time, and
# the one in `require` names a local (`self`).

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from petitions.identity.errors import AuthenticationError, ForbiddenError, IdentityError
from petitions.identity.principal import Principal, Role
from petitions.identity.verify import TokenVerifier, rejected
from petitions.log import bind_context, get_logger

log = get_logger(__name__)

# auto_error=False: a missing token gets our bilingual 401, not FastAPI's English one.
_bearer = HTTPBearer(
    auto_error=False,
    description="统一身份平台签发的令牌 / A token from the unified identity platform",
)


class Authenticator:
    """The dependency that authenticates a request; ``verifier`` is called per request, so the
    verifier may be built later (in the lifespan) than the routes."""

    def __init__(self, verifier: Callable[[], TokenVerifier]) -> None:
        self._verifier = verifier

    async def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise rejected(
                "token_missing",
                "请求缺少令牌，请在 Authorization 头中提供 Bearer 令牌",
                "The request carries no token: send 'Authorization: Bearer <token>'",
            )
        # Off the event loop: the verifier may fetch the issuer's keys over the network.
        principal = await run_in_threadpool(self._verifier().verify, credentials.credentials)
        bind_context(
            user=principal.user,
            role=str(principal.role),
            bureau=principal.bureau,
            department=principal.department,
        )
        return principal

    def require(self, *roles: Role) -> Callable[..., Awaitable[Principal]]:
        """A dependency that authenticates and then admits only the given roles (403 otherwise)."""
        if not roles:
            raise ValueError("require() needs at least one role")
        allowed = ", ".join(roles)
        allowed_zh = "、".join(role.label for role in roles)

        async def with_role(principal: Annotated[Principal, Depends(self)]) -> Principal:
            if principal.role not in roles:
                raise ForbiddenError(
                    "role_forbidden",
                    f"您的角色（{principal.role.label}）无权进行此操作，"
                    f"需要以下角色之一：{allowed_zh} / "
                    f"Your role ({principal.role}) may not do this; it needs one of: {allowed}",
                )
            return principal

        return with_role


def authenticate(verifier: Callable[[], TokenVerifier]) -> Authenticator:
    """The authentication dependency for the verifier that ``verifier()`` returns."""
    return Authenticator(verifier)


def install_auth_errors(app: FastAPI) -> None:
    """Answer identity errors with ``{"error": code, "message": "中文 / English"}``."""

    async def identity_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, IdentityError)
        log.info("auth.rejected", error=exc.code, status=exc.status)  # never the token itself
        headers = None
        if isinstance(exc, AuthenticationError):
            # RFC 6750 §3.1: no error attribute when no token was sent at all.
            challenge = "Bearer" if exc.code == "token_missing" else 'Bearer error="invalid_token"'
            headers = {"WWW-Authenticate": challenge}
        return JSONResponse(
            {"error": exc.code, "message": exc.message}, status_code=exc.status, headers=headers
        )

    app.add_exception_handler(IdentityError, identity_error)
