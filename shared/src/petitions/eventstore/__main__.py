"""Signed checkpoints of the event store.

    python -m petitions.eventstore keygen --key PATH
    python -m petitions.eventstore checkpoint [--dir DIR] [--key PATH]
    python -m petitions.eventstore verify-checkpoint [--dir DIR] [--public-key PATH]
                                                     [--checkpoint NAME-OR-PATH]

Settings: PETITIONS_CHECKPOINT_DIR, PETITIONS_CHECKPOINT_KEY, PETITIONS_CHECKPOINT_PUBLIC_KEY and
the database as for the services (PETITIONS_DATABASE_URL, or the running devstack's).

Exit codes: 0 done / verifies; 3 the store does not match the checkpoint, or its signature fails;
2 bad arguments, missing key or folder, unreachable database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from petitions.db import CONNECTION_ERRORS, create_pool
from petitions.eventstore.checkpoint import (
    CheckpointError,
    CheckpointForgedError,
    CheckpointSettings,
    DirectorySink,
    check_signature,
    compare,
    public_key_of,
    take_checkpoint,
)
from petitions.eventstore.signing import FileSigner, SigningError, generate_key
from petitions.eventstore.store import EventStore
from petitions.operator import failed, operator_settings

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BROKEN = 3


def _folder(settings: CheckpointSettings) -> Path:
    if settings.checkpoint_dir is None:
        raise CheckpointError(
            "未配置检查点目录 no checkpoint folder: pass --dir or set PETITIONS_CHECKPOINT_DIR"
        )
    return settings.checkpoint_dir


async def _checkpoint(settings: CheckpointSettings, source: str) -> int:
    if settings.checkpoint_key is None:
        raise CheckpointError(
            "未配置签名密钥 no signing key: pass --key or set PETITIONS_CHECKPOINT_KEY"
        )
    signer = FileSigner(settings.checkpoint_key)
    sink = DirectorySink(_folder(settings))
    pool = await _pool(settings, source)
    try:
        started = time.perf_counter()
        checkpoint = await take_checkpoint(pool, signer)
    finally:
        await pool.close()
    where = sink.put(checkpoint)
    print(
        f"已写检查点 checkpoint written: {where} — {len(checkpoint.heads)} 个流 streams up to "
        f"position {checkpoint.position}, key {checkpoint.key_id[:16]}… "
        f"({time.perf_counter() - started:.2f} s)"
    )
    return EXIT_OK


async def _verify(settings: CheckpointSettings, name: str | None, source: str) -> int:
    sink = DirectorySink(_folder(settings))
    public_key = public_key_of(settings)
    try:
        checkpoint = sink.get(name) if name else sink.latest()
        if checkpoint is None:
            raise CheckpointError(
                f"没有检查点 no checkpoint in {sink.folder}; write one with "
                "`python -m petitions.eventstore checkpoint`"
            )
        check_signature(checkpoint, public_key)
    except CheckpointForgedError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BROKEN
    pool = await _pool(settings, source)
    try:
        report = await compare(EventStore(pool), checkpoint)
    finally:
        await pool.close()
    when = f"{checkpoint.taken_at.isoformat()} (position {checkpoint.position})"
    if report.ok:
        print(
            f"与检查点一致 the store matches the signed checkpoint of {when}: "
            f"{report.streams_checked} 个流 streams, chains verify"
        )
        return EXIT_OK
    for mismatch in report.mismatches:
        print(f"不符 MISMATCH {mismatch}", file=sys.stderr)
    print(
        f"{len(report.mismatches)} 个流与检查点不符 streams do not match the checkpoint of {when}; "
        "report this to the discipline / inspection department (纪检督察) at once",
        file=sys.stderr,
    )
    return EXIT_BROKEN


async def _pool(settings: CheckpointSettings, source: str) -> asyncpg.Pool:
    try:
        return await create_pool(settings)
    except (*CONNECTION_ERRORS, asyncpg.PostgresError) as exc:
        raise CheckpointError(
            failed(("事件库", "the event store"), settings.database_url, source, exc)
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m petitions.eventstore",
        description="事件库签名检查点 signed checkpoints of the event store",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    keygen = commands.add_parser("keygen", help="生成SM2签名密钥 a new SM2 signing key (+ .pub)")
    keygen.add_argument("--key", type=Path, required=True, help="私钥文件 private key file")
    write = commands.add_parser("checkpoint", help="写一个签名检查点 write a signed checkpoint")
    write.add_argument("--dir", type=Path, help="检查点目录 (PETITIONS_CHECKPOINT_DIR)")
    write.add_argument("--key", type=Path, help="SM2私钥 (PETITIONS_CHECKPOINT_KEY)")
    verify = commands.add_parser(
        "verify-checkpoint", help="对照检查点校验事件库 compare the store with a checkpoint"
    )
    verify.add_argument("--dir", type=Path, help="检查点目录 (PETITIONS_CHECKPOINT_DIR)")
    verify.add_argument("--public-key", type=Path, help="SM2公钥 (PETITIONS_CHECKPOINT_PUBLIC_KEY)")
    verify.add_argument("--checkpoint", help="某个检查点 a given checkpoint (default: the latest)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "keygen":
            public = generate_key(args.key)
            print(f"已生成 SM2 key written: {args.key} (mode 600), public key {public}")
            return EXIT_OK
        overrides = {
            "checkpoint_dir": getattr(args, "dir", None),
            "checkpoint_key": getattr(args, "key", None),
            "checkpoint_public_key": getattr(args, "public_key", None),
        }
        settings, source = operator_settings(
            CheckpointSettings,
            db_pool_min=0,
            db_pool_max=2,
            **{k: v for k, v in overrides.items() if v is not None},
        )
        if args.command == "checkpoint":
            return asyncio.run(_checkpoint(settings, source))
        return asyncio.run(_verify(settings, args.checkpoint, source))
    except (CheckpointError, SigningError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
