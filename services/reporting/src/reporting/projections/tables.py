"""The read models' tables in PostgreSQL: creating them, the pool that reads them, and the one
way rows are loaded into and written from a :class:`Projector`.

The tables live in schema ``reporting`` of the reporting database, created from schema.sql with
``search_path`` set to the schema; a rebuild creates the same tables in a fresh schema and swaps
it in. Every connection of the read pool has ``search_path = reporting``, so queries name
tables unqualified and, after a swap, find the new ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Sequence
from importlib import resources
from uuid import UUID

import asyncpg
from petitions.log import get_logger
from petitions.migrations import apply_package
from petitions.runtime import SCHEMA_NOT_CURRENT, StartupError, check_schema

from reporting.projections.projector import (
    CaseRow,
    Changes,
    InstructionRow,
    Needs,
    Projector,
    SessionRow,
    _Row,
)

log = get_logger(__name__)

SCHEMA = "reporting"
PROJECTION_LOCK = 7_031_952_901
"""Advisory lock: every live projection transaction holds it shared, a rebuild's swap takes it
exclusively, so the swap sees no transaction half-way and none starts on the old tables after."""
ERASURE_LOCK = 7_031_952_902
"""Advisory lock: a case registration takes it shared, an erasure exclusively, so that the two,
arriving on different streams, never miss each other."""
_CREATE_LOCK = 7_031_952_903
MIGRATIONS = [
    ("messaging", "petitions.messaging.migrations"),
    (SCHEMA, "reporting.migrations"),
]
"""The reporting database's migration packages (the tables themselves come from schema.sql)."""


def ddl() -> str:
    """The tables' DDL (schema.sql), for whichever schema is first on search_path."""
    return resources.files("reporting.projections").joinpath("schema.sql").read_text("utf-8")


def _statements() -> list[str]:
    text = re.sub(r"--[^\n]*", "", ddl())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def index_ddl() -> list[str]:
    """The secondary indexes of schema.sql, each a statement (a rebuild builds them once its
    rows are in: one sort each, instead of an update of each per row written, and a case's
    row is written again at every flush it changed in)."""
    return [s for s in _statements() if s.startswith("CREATE INDEX")]


def ddl_checksum() -> str:
    return "schema.sql sha256 " + hashlib.sha256(ddl().encode()).hexdigest()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def role_exists(conn: asyncpg.Connection, role: str | None) -> bool:
    if not role:
        return False
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role)
    )


async def create_tables(
    conn: asyncpg.Connection, schema: str, *, role: str | None = None, indexes: bool = True
) -> None:
    """Create the schema and its tables from schema.sql, in one transaction. With ``role``, as
    that role: it then owns them, as it owns those a rebuild (on the read pool) creates.
    ``indexes=False``: without the secondary ones (see :func:`create_indexes`)."""
    async with conn.transaction():
        if role:
            await conn.execute(f"SET LOCAL ROLE {_ident(role)}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        await conn.execute(f"SET LOCAL search_path = {_ident(schema)}")
        if indexes:
            await conn.execute(ddl())
        else:
            deferred = set(index_ddl())
            await conn.execute(";\n".join(s for s in _statements() if s not in deferred))
        # Which schema.sql made these tables: a later change to it needs a rebuild.
        await conn.execute(f"COMMENT ON SCHEMA {_ident(schema)} IS '{ddl_checksum()}'")


async def create_indexes(connections: Sequence[asyncpg.Connection], schema: str) -> None:
    """Build the secondary indexes of the tables ``create_tables(..., indexes=False)`` made,
    shared out over ``connections`` (PostgreSQL builds one index on a core; building two on
    one table at once is allowed). The GiST index goes first: at 1,000,000 cases it took 10 s
    of the 18.5 s all of them took one after the other, and started last it kept one
    connection busy after the other was done."""
    statements = sorted(index_ddl(), key=lambda s: "USING gist" not in s)

    async def build(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path = {_ident(schema)}")
            while statements:
                await conn.execute(statements.pop(0))

    async with asyncio.TaskGroup() as group:
        for conn in connections:
            group.create_task(build(conn))


async def migrate(dsn: str, *, role: str | None) -> list[str]:
    """Bring the reporting database up to date: the consumer bookkeeping (dead letters), the
    ``reporting`` schema, and its tables if it has none yet. ``role`` is the services' role
    (``db_role``): it gets the schema (a rebuild renames and drops it) and may create the next
    one. Returns what was applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        applied: list[str] = []
        for owner_name, package in MIGRATIONS:
            applied += await apply_package(conn, owner_name, package)
        await conn.execute("SELECT pg_advisory_lock($1)", _CREATE_LOCK)
        try:
            owner = role if await role_exists(conn, role) else None
            if owner is not None:
                await conn.execute(f"ALTER SCHEMA {SCHEMA} OWNER TO {_ident(owner)}")
                database = await conn.fetchval("SELECT current_database()")
                await conn.execute(
                    f"GRANT CREATE ON DATABASE {_ident(database)} TO {_ident(owner)}"
                )
                # On a reporting server of its own the role may have come after the migrations
                # (petitions.migrate creates it first): what they grant where it exists, and
                # the bookkeeping a service that does not migrate reads at start-up.
                await conn.execute(
                    f"GRANT USAGE ON SCHEMA messaging TO {_ident(owner)}; "
                    "GRANT SELECT, INSERT, UPDATE ON messaging.applied, messaging.dead_letters "
                    f"TO {_ident(owner)}; "
                    f"GRANT SELECT ON public.petitions_migrations TO {_ident(owner)}"
                )
            if await conn.fetchval("SELECT to_regclass('reporting.cases') IS NULL"):
                await create_tables(conn, SCHEMA, role=owner)
                applied.append("reporting/schema.sql")
            else:
                current = await conn.fetchval(
                    "SELECT obj_description('reporting'::regnamespace, 'pg_namespace')"
                )
                if current != ddl_checksum():
                    log.warning(
                        "reporting.schema_outdated",
                        hint="读模型表结构已变更，请重建 the read-model tables differ from "
                        "schema.sql: run `python -m reporting.projections rebuild`",
                    )
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _CREATE_LOCK)
        return applied
    finally:
        await conn.close()


async def prepare(dsn: str, *, role: str | None, migrate_on_start: bool) -> list[str]:
    """At a process's start: :func:`migrate` (the owner's login), or else only check that it
    was done (a login that may not create anything; ``python -m petitions.migrate`` does it)."""
    if migrate_on_start:
        return await migrate(dsn, role=role)
    await check_schema(dsn, MIGRATIONS)
    conn = await asyncpg.connect(dsn)
    try:
        missing = await conn.fetchval("SELECT to_regclass('reporting.cases') IS NULL")
    finally:
        await conn.close()
    if missing:
        raise StartupError(SCHEMA_NOT_CURRENT.format(missing="reporting/schema.sql"))
    return []


async def create_read_pool(
    dsn: str, *, role: str | None, min_size: int = 1, max_size: int = 10, read_only: bool = False
) -> asyncpg.Pool:
    """The pool on the reporting database: ``search_path = reporting``, acting as ``role`` when
    that role exists there (a reporting database on another server may not have it).
    ``read_only``: for the queries alone, which may then run on a streaming replica (a hot
    standby refuses writes; so does this pool, wherever it points)."""

    async def init(conn: asyncpg.Connection) -> None:
        if await role_exists(conn, role):
            assert role is not None
            await conn.execute(f"SET ROLE {_ident(role)}")

    async def reset(conn: asyncpg.Connection) -> None:
        # As petitions.db.create_pool: pooled connections keep no session state but their role
        # and search_path, so only an abandoned transaction needs undoing.
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        reset=reset,
        server_settings={
            "search_path": SCHEMA,
            "idle_in_transaction_session_timeout": "30000",
            "application_name": "petitions-reporting",
            # The report queries take optional filters as `$n::text IS NULL OR column = $n`.
            # After five runs of a pooled prepared statement PostgreSQL may switch to a generic
            # plan, which cannot drop the branch that does not apply: the submissions query went
            # from 64-80 ms to 173-190 ms at 100k cases (issue 17). Planning each run costs
            # about a millisecond; reports run few statements.
            "plan_cache_mode": "force_custom_plan",
            # A report's aggregate over a year of cases is estimated expensive enough for JIT:
            # at 264,000 cases compiling took 1.2 of the 3.9 s of the city's "matters" query
            # (auto_explain: Inlining 291 ms, Optimization 543 ms, Emission 333 ms), more than
            # it ever saves a query that runs once. Its hashes and sorts spilled to disk at the
            # default 4 MB (Batches 2-5, temp written 5,386 blocks): a reporting connection runs
            # one query at a time, so it may take more.
            "jit": "off",
            "work_mem": "64MB",
        }
        | ({"default_transaction_read_only": "on"} if read_only else {}),
    )
    assert pool is not None
    return pool


# ------------------------------------------------------------------------- rows in and out


def _select(cls: type[_Row]) -> str:
    return f"SELECT {', '.join(cls.COLUMNS)} FROM {cls.TABLE}"


def _upsert(cls: type[_Row]) -> str:
    columns = ", ".join(cls.COLUMNS)
    values = ", ".join(f"${n}" for n in range(1, len(cls.COLUMNS) + 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cls.COLUMNS if c not in cls.KEY)
    return (
        f"INSERT INTO {cls.TABLE} ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(cls.KEY)}) DO UPDATE SET {updates}"
    )


_SELECT_CASES = _select(CaseRow) + " WHERE case_id = ANY($1::uuid[]) ORDER BY case_id FOR UPDATE"
_SELECT_SESSIONS = (
    _select(SessionRow) + " WHERE session_id = ANY($1::uuid[]) ORDER BY session_id FOR UPDATE"
)
_SELECT_INSTRUCTIONS = (
    _select(InstructionRow)
    + " WHERE instruction_id = ANY($1::uuid[]) ORDER BY instruction_id FOR UPDATE"
)
# Sorted, so that two erasures lock shared cases in the same order.
_SELECT_SUBJECT_CASES = (
    _select(CaseRow) + " WHERE subjects @> ARRAY[$1::uuid] ORDER BY case_id FOR UPDATE"
)
_UPSERTS = {cls: _upsert(cls) for cls, _ in Changes().by_table()}


async def load(conn: asyncpg.Connection, projector: Projector, needs: Sequence[Needs]) -> None:
    """Load the stored rows ``needs`` name (those of the events a transaction applies) into
    ``projector``, locked until the transaction ends (an erasure and a case's own events may
    update one case row concurrently). Locks are taken in one order everywhere (the erasure
    lock, then rows by key, each table's sorted) so that replicas applying overlapping batches
    wait for each other instead of deadlocking."""
    case_ids = sorted({n.case_id for n in needs if n.case_id is not None})
    session_ids = sorted({n.session_id for n in needs if n.session_id is not None})
    instruction_ids = sorted({n.instruction_id for n in needs if n.instruction_id is not None})
    erase = sorted({n.erase for n in needs if n.erase is not None})
    checks = sorted({subject for n in needs for subject in n.erased_check})
    if erase:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
    elif checks:
        await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", ERASURE_LOCK)
    if case_ids:
        for row in await conn.fetch(_SELECT_CASES, case_ids):
            projector.load_case(CaseRow.from_record(row))
    for subject in erase:
        for row in await conn.fetch(_SELECT_SUBJECT_CASES, subject):
            projector.load_case(CaseRow.from_record(row))
    if session_ids:
        for row in await conn.fetch(_SELECT_SESSIONS, session_ids):
            projector.load_session(SessionRow.from_record(row))
    if instruction_ids:
        for row in await conn.fetch(_SELECT_INSTRUCTIONS, instruction_ids):
            projector.load_instruction(InstructionRow.from_record(row))
    if checks:
        rows = await conn.fetch(
            "SELECT subject_id FROM erased_subjects WHERE subject_id = ANY($1::uuid[])", checks
        )
        projector.load_erased(r["subject_id"] for r in rows)


async def write(conn: asyncpg.Connection, changes: Changes) -> None:
    """Upsert the changed rows (into whichever schema is first on search_path)."""
    for cls, rows in changes.by_table():
        if len(rows) == 1:
            await conn.execute(_UPSERTS[cls], *rows[0].record())
        elif rows:
            await conn.executemany(_UPSERTS[cls], [row.record() for row in rows])
    if changes.erased:
        await conn.execute(
            "INSERT INTO erased_subjects (subject_id) SELECT unnest($1::uuid[]) "
            "ON CONFLICT DO NOTHING",
            list(changes.erased),
        )


async def write_applied(conn: asyncpg.Connection, applied: Sequence[tuple[str, int]]) -> None:
    if applied:
        await conn.executemany(
            "INSERT INTO applied (stream_id, version) VALUES ($1, $2) "
            "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
            applied,
        )


async def copy_rows(
    conn: asyncpg.Connection, schema: str, changes: Changes, applied: Sequence[tuple[str, int]]
) -> None:
    """COPY every row into the (empty) tables of ``schema``."""
    for cls, rows in changes.by_table():
        if rows:
            await conn.copy_records_to_table(
                cls.TABLE,
                schema_name=schema,
                columns=list(cls.COLUMNS),
                records=[row.record() for row in rows],
            )
    if changes.erased:
        await conn.copy_records_to_table(
            "erased_subjects",
            schema_name=schema,
            columns=["subject_id"],
            records=[(s,) for s in changes.erased],
        )
    if applied:
        await conn.copy_records_to_table(
            "applied", schema_name=schema, columns=["stream_id", "version"], records=applied
        )


async def upsert_copied(
    conn: asyncpg.Connection, schema: str, changes: Changes, applied: Sequence[tuple[str, int]]
) -> None:
    """Write changed rows into the tables of ``schema`` in one transaction, new or not: COPY
    into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE from it (a rebuild's
    batches; an upsert per row costs a round trip and a parse per statement)."""
    async with conn.transaction():
        for cls, rows in changes.by_table():
            if rows:
                await _copy_upsert(
                    conn, schema, cls.TABLE, cls.COLUMNS, cls.KEY, [r.record() for r in rows]
                )
        if changes.erased:
            await _copy_upsert(
                conn,
                schema,
                "erased_subjects",
                ("subject_id",),
                ("subject_id",),
                [(s,) for s in changes.erased],
            )
        if applied:
            await _copy_upsert(
                conn, schema, "applied", ("stream_id", "version"), ("stream_id",), list(applied)
            )


async def _copy_upsert(
    conn: asyncpg.Connection,
    schema: str,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    records: list[tuple[object, ...]],
) -> None:
    stage = f"stage_{table}"
    target = f"{_ident(schema)}.{table}"
    names = ", ".join(columns)
    await conn.execute(
        f"CREATE TEMP TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    await conn.copy_records_to_table(stage, columns=list(columns), records=records)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    await conn.execute(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} "
        f"ON CONFLICT ({', '.join(key)}) {conflict}"
    )
    await conn.execute(f"DROP TABLE {stage}")


async def load_stored(
    conn: asyncpg.Connection,
    schema: str,
    projector: Projector,
    case_ids: Sequence[UUID],
    session_ids: Sequence[UUID],
    erase: Sequence[UUID],
    instruction_ids: Sequence[UUID] = (),
    *,
    owns_case: Callable[[UUID], bool] | None = None,
) -> None:
    """Load into ``projector`` the rows of ``schema`` it does not hold (a rebuild's batch: the
    rows it holds are newer than the stored ones). Rows are built from the columns by position
    (selected in the rows' field order): by name cost a reload as much as its query.
    ``owns_case``: the cases an erasure reaches that this fold may load (a part of a split
    rebuild erases its own cases only)."""
    prefix = f"{_ident(schema)}."
    if case_ids:
        for row in await conn.fetch(
            _select(CaseRow).replace(" FROM ", f" FROM {prefix}", 1)
            + " WHERE case_id = ANY($1::uuid[])",
            case_ids,
        ):
            projector.load_case(CaseRow(*row))
    if session_ids:
        for row in await conn.fetch(
            _select(SessionRow).replace(" FROM ", f" FROM {prefix}", 1)
            + " WHERE session_id = ANY($1::uuid[])",
            session_ids,
        ):
            projector.load_session(SessionRow(*row))
    if instruction_ids:
        for row in await conn.fetch(
            _select(InstructionRow).replace(" FROM ", f" FROM {prefix}", 1)
            + " WHERE instruction_id = ANY($1::uuid[])",
            instruction_ids,
        ):
            projector.load_instruction(InstructionRow(*row))
    for subject in erase:
        for row in await conn.fetch(
            _select(CaseRow).replace(" FROM ", f" FROM {prefix}", 1)
            + " WHERE subjects @> ARRAY[$1::uuid]",
            subject,
        ):
            case_id = row["case_id"]
            if not projector.holds_case(case_id) and (owns_case is None or owns_case(case_id)):
                projector.load_case(CaseRow(*row))


async def stored_versions(
    conn: asyncpg.Connection, schema: str, streams: Sequence[str]
) -> dict[str, int]:
    rows = await conn.fetch(
        f"SELECT stream_id, version FROM {_ident(schema)}.applied WHERE stream_id = ANY($1)",
        streams,
    )
    return {r["stream_id"]: r["version"] for r in rows}
