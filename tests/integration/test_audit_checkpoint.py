"""`petitions audit CASE --verify` also compares the case with the latest signed checkpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from petitions.eventstore import EventStore
from petitions.eventstore.checkpoint import DirectorySink, take_checkpoint
from petitions.eventstore.signing import FileSigner, generate_key

from tests.integration.test_audit_replay import NUMBER, Case, _build_case
from tests.integration.test_eventstore_checkpoint import _rewrite_consistently

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def _audit(database_url: str, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    script = Path(sys.executable).with_name("petitions")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reporting.cli"]
    process = await asyncio.create_subprocess_exec(
        *command,
        "audit",
        NUMBER,
        *args,
        env={**os.environ, "PETITIONS_DATABASE_URL": database_url, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_audit_verify_finds_a_rewritten_case_through_the_checkpoint(
    pool: asyncpg.Pool, kek: bytes, store: EventStore, database_url: str, tmp_path: Path
) -> None:
    case: Case = await _build_case(pool, kek)
    key = tmp_path / "keys" / "checkpoint.pem"
    public = generate_key(key)
    folder = tmp_path / "checkpoints"
    # The auditor holds the public key only.
    env = {"PETITIONS_CHECKPOINT_DIR": str(folder), "PETITIONS_CHECKPOINT_PUBLIC_KEY": str(public)}

    code, out, err = await _audit(database_url, env, "--verify")
    assert code == 0, err
    assert "none yet" in out

    sink = DirectorySink(folder)
    sink.put(await take_checkpoint(pool, FileSigner(key), now=lambda: T0))
    code, out, err = await _audit(database_url, env, "--verify")
    assert code == 0, err
    assert "完整 OK" in out
    assert "一致 OK" in out

    # Every event of the case now says another officer did it, chain recomputed.
    await _rewrite_consistently(
        store, database_url, case.stream, lambda raw: dataclasses.replace(raw, actor="someone-else")
    )
    code, out, err = await _audit(database_url, env, "--verify")
    assert code == 3, err
    assert "完整 OK" in out  # the chain alone is fooled
    assert f"MISMATCH {case.stream} v6" in out
    code, _, err = await _audit(database_url, env, "--verify", "--json")
    assert code == 3
    assert f"MISMATCH {case.stream} v6" in err

    # A newer checkpoint the forger signed with their own key, after the rewrite, is not trusted.
    forger = tmp_path / "keys" / "forger.pem"
    generate_key(forger)
    later = T0 + timedelta(hours=1)
    sink.put(await take_checkpoint(pool, FileSigner(forger), now=lambda: later))
    code, out, _ = await _audit(database_url, env, "--verify")
    assert code == 3
    assert "NOT TRUSTED" in out
