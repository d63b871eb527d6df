"""The SQL the PostgreSQL event store runs, and the mapping of its rows to :class:`RawEvent`.

Kept apart from the store's logic so that what reaches the database can be read in one place.
"""

from __future__ import annotations

from typing import Any

from petitions.eventstore.model import RawEvent, raw_event
from petitions.personal.codec import VAULT

COLUMNS = (
    "position, stream_id, version, event_id, event_type, schema_version, bureau, data, actor, "
    "service, correlation_id, causation_id, occurred_at, recorded_at, "
    "tx_id::text::bigint AS tx, hash_alg, hash"
)
"""The event columns in :class:`RawEvent`'s field order (so a row maps onto it positionally)."""

# Parameters of every form: $1 stream, $2 expected version, $3 new version, $4 new head hash,
# $5 actor, $6 service, $7 correlation id, $8 causation id, $9 recorded at, $10 hash algorithm.
# One event: $11 event id, $12 type, $13 schema version, $14 bureau, $15 data, $16 occurred at
# (its version and hash are $3 and $4). Several: $11-$18, one array per event column. A new stream
# adds two more: category and bureau. Single-event appends, the common case, get their own form
# because encoding arrays costs the client more than the whole rest of an append.
_BUMP_NEW = """
    INSERT INTO eventstore.streams (stream_id, category, bureau, version, head_hash)
    SELECT $1, ${category}, ${bureau}, $3, $4 WHERE $2::bigint = 0
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING version
"""
_BUMP_EXISTING = """
    UPDATE eventstore.streams SET version = $3, head_hash = $4, updated_at = now()
    WHERE stream_id = $1 AND version = $2
    RETURNING version
"""
_INSERT_COLUMNS = """
    INSERT INTO eventstore.events (stream_id, version, event_id, event_type, schema_version,
        bureau, data, actor, service, correlation_id, causation_id, occurred_at, recorded_at,
        hash_alg, hash)
"""
_INSERT_ONE = (
    _INSERT_COLUMNS
    + """
    SELECT $1, $3, $11, $12, $13, $14, $15::json, $5, $6, $7, $8, $16, $9, $10, $4
    WHERE EXISTS (SELECT 1 FROM bumped)
    RETURNING position
"""
)
_INSERT_MANY = (
    _INSERT_COLUMNS
    + """
    SELECT $1, e.version, e.event_id, e.event_type, e.schema_version, e.bureau, e.data, $5, $6,
        $7, $8, e.occurred_at, $9, $10, e.hash
    FROM unnest($11::bigint[], $12::uuid[], $13::text[], $14::int[], $15::text[], $16::json[],
        $17::timestamptz[], $18::bytea[])
        AS e(version, event_id, event_type, schema_version, bureau, data, occurred_at, hash)
    WHERE EXISTS (SELECT 1 FROM bumped)
    ORDER BY e.version
    RETURNING position
"""
)
_INSERT_INDEX = """
    INSERT INTO personal.blind_index (kind, token, subject_id, stream_id)
    SELECT i.kind, i.token, i.subject_id, $1
    FROM unnest(${kinds}::text[], ${tokens}::bytea[], ${subjects}::uuid[])
        AS i(kind, token, subject_id)
    WHERE EXISTS (SELECT 1 FROM bumped)
    ON CONFLICT DO NOTHING
"""


def _append_statement(*, new_stream: bool, single: bool, indexed: bool) -> str:
    """The append statement for one shape of append; extra parameters are numbered after the
    event columns, in this order: category and bureau (new stream), then the blind index."""
    next_param = 17 if single else 19
    bump = _BUMP_EXISTING
    if new_stream:
        bump = _BUMP_NEW.replace("${category}", f"${next_param}").replace(
            "${bureau}", f"${next_param + 1}"
        )
        next_param += 2
    ctes = [f"bumped AS ({bump})", f"ins AS ({_INSERT_ONE if single else _INSERT_MANY})"]
    if indexed:
        index = (
            _INSERT_INDEX.replace("${kinds}", f"${next_param}")
            .replace("${tokens}", f"${next_param + 1}")
            .replace("${subjects}", f"${next_param + 2}")
        )
        ctes.append(f"idx AS ({index})")
    return "WITH " + ", ".join(ctes) + "\nSELECT array_agg(position ORDER BY position) FROM ins"


APPEND: dict[tuple[bool, bool, bool], str] = {
    (new_stream, single, indexed): _append_statement(
        new_stream=new_stream, single=single, indexed=indexed
    )
    for new_stream in (True, False)
    for single in (True, False)
    for indexed in (True, False)
}
"""Append statements by (new stream, single event, with blind-index tokens)."""

STREAM_HEAD = "SELECT version, head_hash FROM eventstore.streams WHERE stream_id = $1"
STREAM_VERSION = "SELECT version FROM eventstore.streams WHERE stream_id = $1"
STREAM_HEADS = "SELECT stream_id, version, head_hash FROM eventstore.streams ORDER BY stream_id"
STORED_IDS = (
    "SELECT position, stream_id FROM eventstore.events WHERE event_id = ANY($1::uuid[]) "
    "ORDER BY position"
)
NOTIFY = "SELECT pg_notify($1, '')"

READ_ALL = (
    f"SELECT {COLUMNS} FROM eventstore.events "
    "WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) "
    "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY tx_id, position LIMIT $3"
)
"""The next events of the whole log after a cursor ($1 tx id as text, $2 position), only of
transactions older than every one still running ($3 limit)."""

_VAULT_TAIL = f',"{VAULT}":'
"""How the vault of personal fields begins in stored JSON: always its last key
(:func:`petitions.personal.codec.without_vault`). A literal safe in SQL: no quote, no backslash."""

CUT_VAULT = (
    f"LATERAL (SELECT string_to_array(data::text, '{_VAULT_TAIL}') AS parts OFFSET 0) AS cut"
)
"""Joined to ``eventstore.events``: the data split where the vault begins, for :data:`MASKED` and
:data:`VAULTS`. ``OFFSET 0`` keeps the split a subquery of its own, evaluated once a row rather
than once a mention."""
MASKED = (
    "convert_to(CASE cardinality(cut.parts) WHEN 1 THEN cut.parts[1] "
    "WHEN 2 THEN cut.parts[1] || '}' ELSE data::text END, 'UTF8')"
)
"""The data's masked form, as UTF-8 bytes (see :data:`DECODE_COLUMNS`)."""
VAULTS = "cardinality(cut.parts) - 1"
"""How often the vault's opening occurs in the data (see :data:`DECODE_COLUMNS`)."""

DECODE_COLUMNS = (
    f"position, stream_id, version, event_id, event_type, schema_version, bureau, {MASKED}, "
    "actor, service, correlation_id, causation_id, NULLIF(occurred_at, recorded_at), "
    f"recorded_at, tx_id::text::bigint AS tx, hash, {VAULTS} AS vaults"
)
"""What a keyless decoded read needs, in :class:`RecordedEvent`'s field order (the data in its
place), then how often the vault's opening occurs in the data (``vaults``).

The data comes as the UTF-8 bytes of its masked form: PostgreSQL cuts the vault off, on its own
core, when it occurs once (``vaults`` 1); with no vault (0) it is the stored text; with more
(a key spelled like it inside the event) it is sent whole and the reader cuts at the last, as
:func:`~petitions.personal.codec.without_vault` does. Cutting in Python was a tenth of the read
of ~1 KB sealed events, and the vault is more than half of their bytes. The JSON validator reads
bytes as they are (a ``str`` costs asyncpg a decoding and the validator an encoding back).
``occurred_at`` is NULL where it equals ``recorded_at`` (as it does unless a command gave its own
time): one timestamp decoded a row instead of two. No ``hash_alg``, which only verification
reads."""

READ_ALL_DECODE = (
    f"SELECT {DECODE_COLUMNS} FROM eventstore.events, {CUT_VAULT} "
    "WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) "
    "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY tx_id, position LIMIT $3"
)
""":data:`READ_ALL` with :data:`DECODE_COLUMNS` (the same rows, in the same order)."""

READ_BY_IDS = f"SELECT {COLUMNS} FROM eventstore.events WHERE event_id = ANY($1::uuid[])"


def _utc_text(column: str) -> str:
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'"""


CANONICAL = (
    "convert_to('[' || to_json(stream_id)::text || ',' || version::text || ',\"' || "
    "event_id::text || '\",' || to_json(event_type)::text || ',' || schema_version::text || "
    "',' || to_json(bureau)::text || ',' || to_json(data::text)::text || ',' || "
    "to_json(actor)::text || ',' || to_json(service)::text || ',\"' || correlation_id::text || "
    "'\",' || COALESCE('\"' || causation_id::text || '\"', 'null') || ',\"' || "
    f"{_utc_text('occurred_at')} || '\",\"' || {_utc_text('recorded_at')} || '\"]', 'UTF8')"
)
"""An event's canonical bytes (:func:`hashing.canonical_bytes`) made by PostgreSQL: verifying
the log then formats on the server's core while Python hashes. The same text as Python's (JSON
strings escaped alike: quote, backslash, controls below U+0020, nothing else), and
tests/integration/test_eventstore_tamper.py holds the two to it on awkward contents; if they
ever differed, verification would report a mismatch, never pass a forgery."""

CHECKED = f"stream_id, version, position, hash_alg, hash, {CANONICAL} AS canonical"
CHECK_ONE_STREAM = f"SELECT {CHECKED} FROM eventstore.events WHERE stream_id = $1 ORDER BY version"

FIND_BY_INDEX = (
    "SELECT stream_id, subject_id FROM personal.blind_index "
    "WHERE kind = $1 AND token = $2 ORDER BY stream_id"
)


def read_stream(*, as_of_column: str | None) -> str:
    """Events of one stream ($1) from version $2 to $3, and (``as_of_column``) at or before $4."""
    conditions = ["stream_id = $1", "version >= $2", "version <= $3"]
    if as_of_column is not None:
        if as_of_column not in ("recorded_at", "occurred_at"):
            raise ValueError(f"not a time column: {as_of_column!r}")
        conditions.append(f"{as_of_column} <= $4")
    return (
        f"SELECT {COLUMNS} FROM eventstore.events WHERE {' AND '.join(conditions)} ORDER BY version"
    )


def raw(row: Any) -> RawEvent:
    """An event row (selected with :data:`COLUMNS`) as a :class:`RawEvent`; asyncpg gives bytea
    as bytes."""
    return raw_event(*row)


def category_of(stream_id: str) -> str:
    """``case-3f2a...`` -> ``case``: the part before the first dash."""
    return stream_id.split("-", 1)[0]
