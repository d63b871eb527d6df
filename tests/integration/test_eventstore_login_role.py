"""What the deployment must do for finding 9's second half: the services log in as a role that
holds only petitions_app's rights, so they cannot switch the append-only trigger off, nor RESET
ROLE back to a superuser as they can when they log in as one and only SET ROLE down."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent

from tests.support.events import NoteAdded

pytestmark = pytest.mark.integration


def _as(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only",
        "UPDATE eventstore.events SET actor = 'x'",
        "DELETE FROM eventstore.events",
        "RESET ROLE",  # then the above would run as whoever logged in
    ],
)
async def test_a_login_role_with_petitions_app_rights_cannot_touch_history(
    store: EventStore, database_url: str, statement: str
) -> None:
    await store.append(
        "case-t",
        [NewEvent(NoteAdded(body="one", words=1), bureau="3301")],
        0,
        metadata=Metadata(actor="officer", service="tests"),
    )
    login = f"petitions_login_{uuid.uuid4().hex[:8]}"  # roles are per server: one per test
    password = secrets.token_urlsafe(16)
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            f"CREATE ROLE {login} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB "
            f"IN ROLE petitions_app PASSWORD '{password}'"
        )
        conn = await asyncpg.connect(_as(database_url, login, password))
        try:
            if statement == "RESET ROLE":
                await conn.execute(statement)
                assert (
                    await conn.fetchval(
                        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                    )
                    is False
                )
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("ALTER TABLE eventstore.events DISABLE TRIGGER ALL")
            else:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(statement)
            # What it is for still works.
            assert await conn.fetchval("SELECT count(*) FROM eventstore.events") == 1
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP OWNED BY {login}")
        await admin.execute(f"DROP ROLE {login}")
        await admin.close()
