"""The ``petitions`` operator command.

    petitions audit CASE-NUMBER [--as-of 2026-03-01T09:00] [--by recorded|occurred] [--verify]
                                [--json] [--reader NAME] [--purpose TEXT]
    petitions rebuild [--quiet]
    petitions publish-roster [--for-month YYYY-MM]     (also: python -m reporting publish-roster)

The event store is PETITIONS_DATABASE_URL; the reporting read models are
PETITIONS_REPORTING_DATABASE_URL (default: the event store's). A time without an offset is
Asia/Shanghai. ``audit`` records the read (reader: the OS user unless --reader, marked as CLI)
before it prints anything.

With --verify and PETITIONS_CHECKPOINT_DIR set, the case is also compared with the latest signed
checkpoint (see ``python -m petitions.eventstore``), whose SM2 signature is checked with
PETITIONS_CHECKPOINT_PUBLIC_KEY: that finds a whole case rewritten with a recomputed chain.

``publish-roster`` publishes the accompany roster for a month (default: the current one, Asia/
Shanghai) unless it is published already, and prints it; the service does the same by itself on
the month's first day. Publishing twice prints what was published and appends nothing.

Exit codes: 0 done (and, with --verify, the chain verifies and matches the checkpoint); 3 the hash
chain is broken, the case does not match the checkpoint or the checkpoint's signature fails;
2 an unknown case, bad arguments or an unreachable database; 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
from petitions.bureaus import BureauConfigMissingError, BureauSettings
from petitions.clock import utc_now
from petitions.db import CONNECTION_ERRORS, create_pool
from petitions.eventstore import EventStore
from petitions.eventstore.checkpoint import (
    CheckpointError,
    CheckpointForgedError,
    CheckpointSettings,
    DirectorySink,
    check_signature,
    compare,
    public_key_of,
)
from petitions.operator import failed, operator_settings
from pydantic import Field

from reporting.adapters.postgres import PostgresCaseFinder
from reporting.audit import (
    STATES,
    Audit,
    CaseState,
    Reader,
    Timeline,
    UnknownCaseError,
    Verification,
    as_shanghai,
)
from reporting.config import RebuildSettings
from reporting.queries import periods
from reporting.queries.periods import PeriodError
from reporting.roster import RosterNotDue, month_of, publish

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN = 3


class CliSettings(CheckpointSettings, BureauSettings, RebuildSettings):
    """The shared settings plus where the read models are, the signed checkpoints and the
    bureau configuration (publish-roster)."""

    reporting_database_url: str | None = Field(
        default=None,
        description="Reporting read-model PostgreSQL URL (default: the event store's).",
    )


class UsageError(Exception):
    """Something the operator can fix; the message says what."""


def _parse_as_of(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"时间格式不对 not a time: {text!r}; write e.g. 2026-03-01T09:00 (Asia/Shanghai) "
            "or 2026-03-01T01:00+00:00"
        ) from None
    return as_shanghai(moment)


async def _pools(settings: CliSettings, source: str) -> tuple[asyncpg.Pool, asyncpg.Pool]:
    try:
        store_pool = await create_pool(settings)
    except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
        raise UsageError(
            failed(("事件库", "the event store"), settings.database_url, source, exc)
        ) from None
    role = settings.db_role

    async def init(conn: asyncpg.Connection) -> None:
        # A reporting database on another server may not have the services' role at all.
        if role and await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role
        ):
            await conn.execute(f'SET ROLE "{role}"')

    try:
        read_pool = await asyncpg.create_pool(
            settings.reporting_database_url or settings.database_url,
            min_size=0,
            max_size=2,
            init=init,
            server_settings={"search_path": "reporting", "application_name": "petitions-cli"},
        )
    except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
        await store_pool.close()
        raise UsageError(
            f"连不上统计库 cannot reach the reporting database ({exc.__class__.__name__}: "
            f"{exc}); set PETITIONS_REPORTING_DATABASE_URL (or unset it to use the event store's)"
        ) from None
    assert read_pool is not None
    return store_pool, read_pool


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown-os-user"


# ---------------------------------------------------------------------------------- printing


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else as_shanghai(moment).isoformat(sep=" ", timespec="seconds")


_STATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("bureau", "受理单位 bureau"),
    ("sub_bureau", "所涉分县局 sub-bureau"),
    ("category", "分类 category"),
    ("first_receiver", "首接责任人 first receiver"),
    ("responsible_unit", "承办单位 responsible unit"),
    ("responsible_officer", "承办人 responsible officer"),
    ("owning_leader", "包案领导 owning leader"),
    ("committee_decisions", "党委研究决定 committee decisions"),
    ("submissions", "信访件次 submissions"),
    ("acceptance_due", "受理期限 acceptance due"),
    ("objection_due", "异议期限 objection due"),
    ("accepted_on", "受理日 accepted on"),
    ("handling_due", "办理期限 handling due"),
    ("extended_days", "延期天数 extended days"),
    ("hearing_since", "听证中 hearing since"),
    ("replied_on", "答复日 replied on"),
    ("on_time", "按期 on time"),
    ("outcome", "处理意见 outcome"),
    ("justified", "有理 justified"),
    ("satisfaction", "满意度 satisfaction"),
    ("review_due", "复查期限 review due"),
    ("re_review_due", "复核期限 re-review due"),
    ("closed_reason", "理由 reason"),
    ("closed_on", "决定日 decided on"),
    ("reminders", "催办次数 reminders"),
    ("supervisions", "督办次数 supervisions"),
)


def _state_lines(state: CaseState) -> list[str]:
    lines = [f"  状态 state: {STATES.get(state.state, state.state)} [{state.state}]"]
    for name, label in _STATE_FIELDS:
        value = getattr(state, name)
        if value in (None, 0, False) and name not in ("on_time", "justified"):
            continue
        if value is None:
            continue
        lines.append(f"  {label}: {value}")
    return lines


def _verification_lines(verification: Verification | None) -> list[str]:
    if verification is None:
        return ["哈希链 hash chain: 未校验 not verified (add --verify)"]
    if verification.ok:
        return [
            f"哈希链 hash chain: 完整 OK — {verification.events_checked} 个事件校验通过 events "
            "verified"
        ]
    return [
        f"哈希链 hash chain: 已断裂 BROKEN at version {verification.first_bad_version} "
        f"(position {verification.first_bad_position or '-'}): {verification.reason}",
        f"  前 {verification.events_checked} 个事件完好 the first {verification.events_checked} "
        "events verify; report this to the discipline / inspection department (纪检督察) at once",
    ]


def render(timeline: Timeline) -> str:
    """The timeline as a person reads it (bilingual, Asia/Shanghai times)."""
    as_of = (
        "现在 now"
        if timeline.as_of is None
        else f"{_when(timeline.as_of)}（按{'记录' if timeline.by == 'recorded' else '发生'}时间 "
        f"by {timeline.by} time）"
    )
    out = [
        f"案件 case {timeline.case_number}  ({timeline.stream_id})",
        f"截至 as of: {as_of}；显示 showing {len(timeline.entries)} / 共 {timeline.stream_version} "
        "个事件 events",
        "",
    ]
    check = timeline.verification
    bad_from = None if check is None or check.ok else check.first_bad_version
    for e in timeline.entries:
        flags = "  ← 补录 imported/backdated" if e.backdated else ""
        if bad_from is not None and e.version >= bad_from:
            flags += "  ⚠ 未通过校验 fails verification"
        out.append(
            f"#{e.version:<3} 记录 recorded {_when(e.recorded_at)}   发生 occurred "
            f"{_when(e.occurred_at)}{flags}"
        )
        out.append(f"     {e.label}  [{e.event_type}]")
        out.append(
            f"     操作人 actor {e.actor} @ {e.service}；单位 bureau {e.bureau}；"
            f"关联 correlation {e.correlation_id}"
        )
        out.append(f"     {e.summary}")
        out.append(f"     {e.hash_alg} {e.hash}")
    if not timeline.entries:
        out.append("（此时刻之前没有事件 no events up to this moment）")
    out += ["", "当时状态 state then:", *_state_lines(timeline.state), ""]
    out += _verification_lines(timeline.verification)
    read = timeline.read
    out.append(
        f"本次查阅已记录 this read is recorded: audit-{timeline.case_id} v{read.version}, "
        f"{read.reader} ({read.role if read.role == read.via else f'{read.role}, {read.via}'}) "
        f"at {_when(read.read_at)}"
    )
    return "\n".join(out)


# ---------------------------------------------------------------------------------- commands


async def _audit(
    settings: CliSettings,
    case_number: str,
    *,
    as_of: datetime | None,
    by: Literal["recorded", "occurred"],
    verify: bool,
    as_json: bool,
    reader: Reader,
    source: str,
) -> int:
    store_pool, read_pool = await _pools(settings, source)
    try:
        store = EventStore(store_pool)
        audit = Audit(store, PostgresCaseFinder(store, read_pool))
        try:
            timeline = await audit.timeline(case_number, reader, as_of=as_of, by=by, verify=verify)
        except UnknownCaseError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
        checkpoint_lines = (
            await _against_checkpoint(settings, store, timeline.stream_id) if verify else []
        )
        # The store's coalesced NOTIFY must go out before the pool closes under it.
        await store.flush()
    finally:
        await read_pool.close()
        await store_pool.close()
    if as_json:
        print(timeline.model_dump_json(indent=2))
        # The JSON answer's shape is the API's; the checkpoint's verdict goes beside it.
        for _, line in checkpoint_lines:
            print(line, file=sys.stderr)
    else:
        print(render(timeline))
        for _, line in checkpoint_lines:
            print(line)
    if timeline.verification is not None and not timeline.verification.ok:
        return EXIT_BROKEN
    if any(not good for good, _ in checkpoint_lines):
        return EXIT_BROKEN
    return EXIT_OK


async def _against_checkpoint(
    settings: CliSettings, store: EventStore, stream_id: str
) -> list[tuple[bool, str]]:
    """(fine, line) pairs: the case against the latest signed checkpoint, when one is kept."""
    if settings.checkpoint_dir is None:
        return [(True, "检查点 checkpoint: 未配置 not configured (PETITIONS_CHECKPOINT_DIR)")]
    try:
        public_key = public_key_of(settings)
        checkpoint = DirectorySink(settings.checkpoint_dir).latest()
        if checkpoint is None:
            return [(True, f"检查点 checkpoint: 尚无 none yet in {settings.checkpoint_dir}")]
        check_signature(checkpoint, public_key)
    except CheckpointForgedError as exc:
        return [(False, f"检查点 checkpoint: 不可信 NOT TRUSTED — {exc}")]
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    report = await compare(store, checkpoint, stream_ids=[stream_id])
    when = f"{as_shanghai(checkpoint.taken_at).isoformat(sep=' ', timespec='seconds')}"
    if report.ok:
        if report.streams_checked == 0:
            return [(True, f"检查点 checkpoint of {when}: 本案在其后登记 case is newer")]
        return [(True, f"检查点 checkpoint of {when}: 一致 OK (position {checkpoint.position})")]
    lines = [(False, f"检查点 checkpoint of {when}: 不符 MISMATCH {m}") for m in report.mismatches]
    lines.append(
        (False, "  报告纪检督察 report this to the discipline / inspection department at once")
    )
    return lines


async def _rebuild(settings: CliSettings, *, progress: bool, source: str) -> int:
    try:
        module = importlib.import_module("reporting.projections.rebuild")
    except ModuleNotFoundError as exc:
        if exc.name not in ("reporting.projections", "reporting.projections.rebuild"):
            raise
        print(
            "此版本尚无重建功能 rebuilding the read models is not available in this build "
            "(reporting.projections.rebuild is missing); upgrade the reporting service",
            file=sys.stderr,
        )
        return EXIT_USAGE
    rebuild: Any = module.rebuild
    try:
        migrate: Any = importlib.import_module("reporting.projections.tables").migrate
    except (ModuleNotFoundError, AttributeError):
        migrate = None
    store_pool, read_pool = await _pools(settings, source)
    try:
        if migrate is not None and settings.migrate_on_start:
            # The rebuild needs the reporting schema's ownership arranged, which the
            # projections' migration does; it is idempotent, so running it first is safe.
            # (Not with a login that may not migrate: `python -m petitions.migrate` did it.)
            await migrate(
                settings.reporting_database_url or settings.database_url, role=settings.db_role
            )
        parts = importlib.import_module("reporting.projections.parts")
        parallel = parts.Parallel(
            settings.rebuild_parts,
            settings.database_url,
            settings.reporting_database_url or settings.database_url,
            settings.db_role or None,
        )
        result = await rebuild(store_pool, read_pool, progress=progress, parallel=parallel)
    finally:
        await read_pool.close()
        await store_pool.close()
    print(
        f"已重建 read models rebuilt: {result.events} 个事件 events in {result.seconds:.1f} s "
        f"({result.eps:.0f} events/s)"
    )
    return EXIT_OK


async def _publish_roster(settings: CliSettings, for_month: str | None, *, source: str) -> int:
    try:
        config, _ = settings.load_bureaus()
    except BureauConfigMissingError as exc:
        raise UsageError(str(exc)) from None
    today = periods.local_today(utc_now())
    month = for_month or month_of(today)
    store_pool, read_pool = await _pools(settings, source)
    try:
        try:
            async with (
                read_pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                found, created = await publish(
                    EventStore(store_pool), conn, config, month, today, _os_user()
                )
        except (RosterNotDue, PeriodError) as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    finally:
        await read_pool.close()
        await store_pool.close()
    state = "已发布 published now" if created else "此前已发布 published before"
    print(
        f"{month} 陪同接访名单 accompany roster: {state} on {found.published_on} "
        f"by {found.published_by}"
    )
    for entry in found.roster:
        print(
            f"  {entry.rank}. {entry.sub_bureau.name} ({entry.sub_bureau.code}) {entry.head}: "
            f"到市局有理访 justified {entry.justified_to_city}, "
            f"件次 submissions {entry.submissions_to_city}"
        )
    if not found.roster:
        print("  无 none: no sub-bureau had a justified petition to the city bureau")
    return EXIT_OK


def _month_arg(text: str) -> str:
    try:
        periods.month(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petitions",
        description="信访台帐运维命令 petition ledger operator commands (审计回放 audit replay, "
        "重建统计 rebuild read models)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    audit = commands.add_parser(
        "audit",
        help="案件时间线、某时刻状态与哈希链校验 a case's timeline, state and chain verification",
        description="打印案件的完整时间线（本次查阅会被记录）print a case's whole timeline; the "
        "read is recorded. Exit 0 ok, 3 chain broken, 2 unknown case or bad arguments.",
    )
    audit.add_argument("case_number", metavar="CASE-NUMBER", help="案号 e.g. 3301-2026-000123")
    audit.add_argument(
        "--as-of",
        type=_parse_as_of,
        help="截至时刻 replay up to this moment, e.g. 2026-03-01T09:00 (no offset: Asia/Shanghai)",
    )
    audit.add_argument(
        "--by",
        choices=("recorded", "occurred"),
        default="recorded",
        help="--as-of 比较记录或发生时间 compare with the recorded (default) or occurred time",
    )
    audit.add_argument("--verify", action="store_true", help="校验哈希链 verify the hash chain")
    audit.add_argument("--json", action="store_true", help="输出JSON print JSON")
    audit.add_argument("--reader", help="查阅人 who reads (default: the OS user)")
    audit.add_argument("--purpose", default="", help="查阅目的 why (recorded with the read)")
    rebuild = commands.add_parser(
        "rebuild", help="从事件库重建统计读模型 rebuild the reporting read models from the store"
    )
    rebuild.add_argument("--quiet", action="store_true", help="不显示进度 no progress bar")
    roster = commands.add_parser(
        "publish-roster",
        help="发布陪同接访名单（已发布则不变）publish a month's accompany roster, once",
    )
    roster.add_argument(
        "--for-month",
        type=_month_arg,
        help="适用月份 the month the roster is for, e.g. 2026-04 (default: this month)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # The services' settings, or the running devstack's servers (see petitions.operator).
    settings, source = operator_settings(CliSettings, db_pool_min=1, db_pool_max=4)
    try:
        if args.command == "audit":
            os_user = _os_user()
            reader = Reader(
                name=(args.reader or os_user).strip() or os_user,
                role="cli",
                purpose=args.purpose,
                via="cli",
            )
            return asyncio.run(
                _audit(
                    settings,
                    args.case_number,
                    as_of=args.as_of,
                    by=args.by,
                    verify=args.verify,
                    as_json=args.json,
                    reader=reader,
                    source=source,
                )
            )
        if args.command == "publish-roster":
            return asyncio.run(_publish_roster(settings, args.for_month, source=source))
        return asyncio.run(_rebuild(settings, progress=not args.quiet, source=source))
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
        # The server went away mid-command: one line, not asyncpg's traceback.
        print(
            failed(("事件库", "the event store"), settings.database_url, source, exc),
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
