"""Hand-built read-model rows for the reporting query tests: the ``reporting`` schema created
from schema.sql in the test's database, and inserts with sensible defaults for every column."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from petitions.bureaus import BureauConfig, WorkCalendar, load_config, load_work_calendar

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_SQL = ROOT / "services/reporting/src/reporting/projections/schema.sql"
SHANGHAI = ZoneInfo("Asia/Shanghai")

CITY = "3301"
A, B, C, D = "330102", "330103", "330104", "330105"  # 江城, 鼓楼, 清河, 望江
E, F, G, H, K = "330106", "330108", "330109", "330110", "330111"


def demo_config() -> tuple[BureauConfig, WorkCalendar]:
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    return config, load_work_calendar(config)


async def create_reporting_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE SCHEMA reporting; SET search_path = reporting;")
        await conn.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    finally:
        await conn.close()


@asynccontextmanager
async def reporting_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose search_path is the reporting schema, as the service's read pool is."""
    await create_reporting_schema(database_url)
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=4, server_settings={"search_path": "reporting"}
    )
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local (Shanghai) wall-clock time on ``day``, as the UTC instant the tables hold."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_numbers: dict[str, int] = {}


async def add_case(
    db: Any,
    *,
    sub_bureau: str,
    received_at: datetime,
    bureau: str | None = None,
    category: str = "SQ01",
    category_kind: str = "complaint_demand",
    **columns: Any,
) -> uuid.UUID:
    case_id = columns.pop("case_id", None) or uuid.uuid4()
    seq = _numbers[sub_bureau] = _numbers.get(sub_bureau, 0) + 1
    row: dict[str, Any] = {
        "case_id": case_id,
        "case_number": f"{bureau or sub_bureau}-{received_at.year}-{seq:06d}-{case_id.hex[:4]}",
        "bureau": bureau or sub_bureau,
        "sub_bureau": sub_bureau,
        "category": category,
        "category_kind": category_kind,
        "petitioners": "王*",
        "petitioner_ids": "110105********002X",
        "subjects": [uuid.uuid4()],
        "head_count": 1,
        "channel": "visit",
        "first_received_at": received_at,
        "registered_at": received_at + timedelta(minutes=5),
        "first_receiver": "clerk-01",
        "state": "awaiting_acceptance",
        "preliminary_assessment": "undetermined",
        "version": 1,
    }
    row.update(columns)
    names = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await db.execute(f"INSERT INTO cases ({names}) VALUES ({marks})", *row.values())
    return case_id


async def add_submission(
    db: Any,
    case_id: uuid.UUID,
    *,
    received_at: datetime,
    receiving_bureau: str,
    **columns: Any,
) -> uuid.UUID:
    case = await db.fetchrow("SELECT sub_bureau, category FROM cases WHERE case_id = $1", case_id)
    submission_id = uuid.uuid4()
    row: dict[str, Any] = {
        "submission_id": submission_id,
        "case_id": case_id,
        "received_at": received_at,
        "received_on": received_at.astimezone(SHANGHAI).date(),
        "receiving_bureau": receiving_bureau,
        "sub_bureau": case["sub_bureau"],
        "category": case["category"],
        "head_count": 1,
        "channel": "visit",
        "is_repeat": False,
        "collective": False,
    }
    row.update(columns)
    names = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await db.execute(f"INSERT INTO submissions ({names}) VALUES ({marks})", *row.values())
    # What the fold keeps on the case's row of its submissions (CaseRow.judge_after_reply).
    await db.execute(
        """
        UPDATE cases SET received_days = received_days || $2::date,
                         repeat_days = CASE WHEN $3 THEN repeat_days || $2::date
                                            ELSE repeat_days END,
                         last_received_at = greatest(last_received_at, $4)
        WHERE case_id = $1;
        """,
        case_id,
        row["received_on"],
        row["is_repeat"],
        row["received_at"],
    )
    await db.execute(
        """
        UPDATE cases
        SET resubmitted_on = (SELECT min(d) FROM unnest(received_days) d WHERE d > replied_on),
            repeated_after_reply_on = (
                SELECT min(d) FROM unnest(repeat_days) d WHERE d > replied_on)
        WHERE case_id = $1
        """,
        case_id,
    )
    return submission_id


async def add_session(
    db: Any,
    *,
    bureau: str,
    day: date,
    leader_id: str,
    leader_name: str,
    state: str,
    chief_day: bool = False,
    missed_reason: str | None = None,
    instructions: int = 0,
) -> uuid.UUID:
    session_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO reception_sessions (session_id, bureau, day, leader_id, leader_name, "
        "chief_day, state, held_by, missed_reason, instructions) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        session_id,
        bureau,
        day,
        leader_id,
        leader_name,
        chief_day,
        state,
        leader_name if state == "held" else None,
        missed_reason,
        instructions,
    )
    return session_id


async def add_progress(db: Any, case_id: uuid.UUID, week: str, recorded_on: date) -> None:
    await db.execute(
        "INSERT INTO progress (case_id, week, note, recorded_on) VALUES ($1, $2, $3, $4)",
        case_id,
        week,
        "走访当事人，正在核实 visited the petitioner, checking the facts",
        recorded_on,
    )


class March:
    """The March 2026 data set; expected figures are worked out by hand in the tests."""

    def __init__(self) -> None:
        self.cases: dict[str, uuid.UUID] = {}


async def march_2026(db: Any) -> March:
    """Eight cases around March 2026 (local dates; D = 2026-04-30 in the tests):

    c1 A  Mar 2   accepted 3-05, replied 3-25 (20 d, on time), justified; first submission at
                  the city bureau; a repeat on 4-10, after the reply: not ceased
    c2 A  Mar 10  accepted 3-12, replied 3-22 (10 d, late); 3 people; a repeat on the reply
                  day itself, not after it: ceased
    c3 B  Mar 15  declined at acceptance; submitted at the city bureau, not justified
    c4 B  Mar 20  accepted 3-21, open; justified; People's Congress; 2 people at the city
                  bureau, and a repeat there on 3-25
    c5 C  2026-03-31T16:30Z = Apr 1 local: an April matter; at the city bureau, justified
    c6 C  2026-02-28T16:30Z = Mar 1 local: a March matter; accepted 3-03, replied 4-15,
                  terminated 4-20 (closed by D; replied in April)
    c7 D  Mar 5   an accusation against D itself and city officer city-officer-9; at the
                  city bureau, skip-level to the province; accepted 3-06, open
    c8 A  Feb 10  accepted 2-12, replied 3-05 (21 d, on time): replied in March
    """
    m = March()
    c = m.cases
    c["c1"] = await add_case(
        db,
        sub_bureau=A,
        bureau=CITY,
        received_at=local(date(2026, 3, 2)),
        state="replied",
        accepted_on=date(2026, 3, 5),
        handling_due=date(2026, 5, 4),
        replied_on=date(2026, 3, 25),
        on_time=True,
        outcome="support",
        justified=True,
    )
    await add_submission(db, c["c1"], received_at=local(date(2026, 3, 2)), receiving_bureau=CITY)
    await add_submission(
        db, c["c1"], received_at=local(date(2026, 4, 10)), receiving_bureau=A, is_repeat=True
    )
    c["c2"] = await add_case(
        db,
        sub_bureau=A,
        received_at=local(date(2026, 3, 10)),
        state="replied",
        accepted_on=date(2026, 3, 12),
        replied_on=date(2026, 3, 22),
        on_time=False,
        outcome="explain",
        head_count=3,
    )
    await add_submission(
        db, c["c2"], received_at=local(date(2026, 3, 10)), receiving_bureau=A, head_count=3
    )
    await add_submission(
        db,
        c["c2"],
        received_at=local(date(2026, 3, 22), 16),
        receiving_bureau=A,
        is_repeat=True,
    )
    c["c3"] = await add_case(
        db,
        sub_bureau=B,
        bureau=CITY,
        received_at=local(date(2026, 3, 15)),
        state="declined",
        not_accepted="declined",
        not_accepted_on=date(2026, 3, 20),
    )
    await add_submission(db, c["c3"], received_at=local(date(2026, 3, 15)), receiving_bureau=CITY)
    c["c4"] = await add_case(
        db,
        sub_bureau=B,
        bureau=CITY,
        received_at=local(date(2026, 3, 20)),
        state="handling",
        accepted_on=date(2026, 3, 21),
        handling_due=date(2026, 5, 20),
        preliminary_assessment="justified",
        justified=True,
        congress=True,
        head_count=2,
        responsible_unit=B,
        responsible_officer="handler-b1",
    )
    await add_submission(
        db, c["c4"], received_at=local(date(2026, 3, 20)), receiving_bureau=CITY, head_count=2
    )
    await add_submission(
        db, c["c4"], received_at=local(date(2026, 3, 25)), receiving_bureau=CITY, is_repeat=True
    )
    c["c5"] = await add_case(
        db,
        sub_bureau=C,
        bureau=CITY,
        received_at=utc("2026-03-31T16:30:00Z"),
        justified=True,
    )
    await add_submission(
        db, c["c5"], received_at=utc("2026-03-31T16:30:00Z"), receiving_bureau=CITY
    )
    c["c6"] = await add_case(
        db,
        sub_bureau=C,
        received_at=utc("2026-02-28T16:30:00Z"),
        state="terminated",
        accepted_on=date(2026, 3, 3),
        replied_on=date(2026, 4, 15),
        on_time=True,
        outcome="not_supported",
        terminated_on=date(2026, 4, 20),
    )
    await add_submission(db, c["c6"], received_at=utc("2026-02-28T16:30:00Z"), receiving_bureau=C)
    c["c7"] = await add_case(
        db,
        sub_bureau=D,
        bureau=CITY,
        received_at=local(date(2026, 3, 5)),
        category="JK01",
        category_kind="accusation",
        state="handling",
        accepted_on=date(2026, 3, 6),
        handling_due=date(2026, 5, 5),
        accused_units=[D],
        accused_officers=["city-officer-9"],
        escalation="province",
        responsible_unit="jijian",
    )
    await add_submission(
        db,
        c["c7"],
        received_at=local(date(2026, 3, 5)),
        receiving_bureau=CITY,
        escalation="province",
    )
    c["c8"] = await add_case(
        db,
        sub_bureau=A,
        received_at=local(date(2026, 2, 10)),
        state="replied",
        accepted_on=date(2026, 2, 12),
        replied_on=date(2026, 3, 5),
        on_time=True,
        outcome="explain",
    )
    await add_submission(db, c["c8"], received_at=local(date(2026, 2, 10)), receiving_bureau=A)
    return m
