"""PostgreSQL connection pools for the services."""

from __future__ import annotations

import asyncpg
from asyncpg.exceptions._base import InternalClientError

from petitions.settings import CommonSettings

CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, unreachable, and socket timeouts (TimeoutError is an OSError)
    asyncpg.InterfaceError,  # the connection closed under a query, the pool closing
    InternalClientError,  # what asyncpg raises on some paths while the server goes away
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.AdminShutdownError,  # 57P01: the server is shutting down (a restart)
    asyncpg.CrashShutdownError,  # 57P02: another backend crashed, all sessions reset
    asyncpg.TooManyConnectionsError,  # 53300: full for now
)
"""What asyncpg raises when PostgreSQL is away, restarting or full, rather than refusing the
statement: the request may succeed if tried again in a few seconds. One list, so the HTTP layer,
the health checks and the background tasks agree on what "unavailable" means."""


async def create_pool(settings: CommonSettings, *, dsn: str | None = None) -> asyncpg.Pool:
    """A pool whose connections act as the restricted service role (see migration 0002).

    ``SET ROLE`` survives asyncpg's ``RESET ALL`` on release, because PostgreSQL excludes the role
    from RESET ALL; so every pooled connection keeps the narrow privileges.
    """
    role = settings.db_role

    async def init(conn: asyncpg.Connection) -> None:
        if role:
            await conn.execute(f'SET ROLE "{role}"')

    async def reset(conn: asyncpg.Connection) -> None:
        # asyncpg's default reset (UNLISTEN, CLOSE, RESET ALL, advisory unlock) is a round trip
        # on every release, a third of a single-event append. Pooled connections never keep
        # session state (LISTEN and session locks use their own connections), so only an
        # abandoned transaction needs undoing.
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")

    pool = await asyncpg.create_pool(
        dsn or settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init,
        reset=reset,
        server_settings={
            # Keeps the ordered readers' horizon moving even if a client hangs mid-transaction.
            "idle_in_transaction_session_timeout": "30000",
            "application_name": "petitions",
        },
    )
    assert pool is not None
    return pool
