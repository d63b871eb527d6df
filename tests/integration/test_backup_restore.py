"""The backup and restore drill (issue 16): back up a running system with the operator command,
restore it into an empty database with the other, start intake on it and see that nothing an
operator relies on was left behind."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from devstack.demo import resident_id
from intake.config import Settings as IntakeSettings
from petitions.db import create_pool
from petitions.eventstore import EventStore, PersonalData
from petitions.identity import DEV_ISSUER
from petitions.personal import BlindIndex, DataKeys, LocalKeyService
from petitions.settings import CommonSettings
from reporting.projections import create_read_pool, migrate, rebuild

from tests.conftest import ROOT, Clock, Servers, Token, _with_database
from tests.integration.test_intake_registration import visit
from tests.integration.test_operations_health import serving
from tests.integration.test_reporting_projections import ROLE, snapshot

pytestmark = pytest.mark.integration


def _operator(command: str, folder: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "petitions.operator", command, str(folder)],
        env={**os.environ, "PETITIONS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def _reporting_rebuilt(database_url: str) -> dict[str, list[dict[str, object]]]:
    """Reporting's read models rebuilt from the store, every row."""
    await migrate(database_url, role=ROLE)
    read = await create_read_pool(database_url, role=ROLE, max_size=2)
    store_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await rebuild(store_pool, read, progress=False)
        return await snapshot(read)
    finally:
        await read.close()
        await store_pool.close()


async def test_backup_of_a_running_system_restores_into_an_empty_database(
    database_url: str,
    servers: Servers,
    jwks_file: Path,
    clock: Clock,
    auth: Token,
    tmp_path: Path,
) -> None:
    kek = os.urandom(16)
    index_key = os.urandom(32)

    def settings(url: str) -> IntakeSettings:
        return IntakeSettings(
            database_url=url,
            **servers.settings("intake"),
            run_relay=False,
            kek=base64.b64encode(kek).decode(),
            blind_index_key=base64.b64encode(index_key).decode(),
            oidc_issuer=DEV_ISSUER,
            jwks_file=jwks_file,
            bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
        )

    rng = random.Random(16)
    people = [resident_id(rng, "330102") for _ in range(5)]
    backup = tmp_path / "backup"
    async with serving(settings(database_url), clock) as http:
        registered = []
        for n, person in enumerate(people):
            body = visit(
                petitioners=[{"name": f"测试人{n}", "resident_id": person, "phone": "13900000000"}]
            )
            response = await http.post(
                "/api/v1/submissions",
                json=body,
                headers=auth() | {"Idempotency-Key": f"drill-{n}"},
            )
            assert response.status_code == 201, response.text
            registered.append(response.json())
        numbers = [r["case_number"] for r in registered]
        assert numbers[-1].endswith("-000005")
        before = await _reporting_rebuilt(database_url)
        # While the service runs: the backup takes one consistent snapshot.
        made = _operator("backup", backup, database_url)
        assert made.returncode == 0, made.stderr
    assert "已备份 backed up" in made.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["kek_ids"] == {"local-1": 5}  # one data key per petitioner, this KEK
    # Intake's schema is in it: the counter, the query codes, the idempotency keys.
    assert manifest["tables"]["intake.case_numbers"] == 1
    assert manifest["tables"]["intake.query_codes"] == 5
    assert manifest["tables"]["intake.idempotency_keys"] == 5
    assert manifest["events"] == manifest["tables"]["eventstore.events"] >= 5
    assert (backup / "petitions.dump").stat().st_size > 0

    restored = _with_database(servers.postgres_url, f"petitions_r_{uuid.uuid4().hex[:12]}")
    try:
        back = _operator("restore", backup, restored)
        assert back.returncode == 0, back.stderr
        assert "local-1 (5 keys)" in back.stdout

        # A restore never lands on a database that holds an event store already.
        again = _operator("restore", backup, restored)
        assert again.returncode == 2
        assert "already holds an event store" in again.stderr

        pool = await create_pool(CommonSettings(database_url=restored))
        try:
            keys = DataKeys(pool, LocalKeyService(kek))
            store = EventStore(pool, personal=PersonalData(keys, BlindIndex(index_key)))
            results = await store.verify_all()
            assert results
            assert all(r.ok for r in results), [r for r in results if not r.ok]
            # The personal data keys came along: with the same KEK the names open again.
            opened = await store.read_stream(f"case-{registered[0]['case_id']}", reveal=True)
            assert "测试人0" in json.dumps(
                [e.data for e in opened], ensure_ascii=False, default=str
            )
        finally:
            await pool.close()

        assert await _reporting_rebuilt(restored) == before

        async with serving(settings(restored), clock) as http:
            # The gapless counter continues where the backup left it.
            fresh = await http.post(
                "/api/v1/submissions",
                json=visit(
                    petitioners=[
                        {
                            "name": "测试人新",
                            "resident_id": resident_id(rng, "330102"),
                            "phone": "13900000001",
                        }
                    ]
                ),
                headers=auth(),
            )
            assert fresh.status_code == 201, fresh.text
            assert fresh.json()["case_number"] == numbers[-1].replace("-000005", "-000006")
            # A query code handed out before the backup still answers.
            status = await http.get(
                "/api/v1/public/status", params={"code": registered[0]["query_code"]}
            )
            assert status.status_code == 200, status.text
            assert status.json()["case_number"] == numbers[0]
            # An idempotency key used before the backup still returns the first answer.
            retried = await http.post(
                "/api/v1/submissions",
                json=visit(
                    petitioners=[
                        {"name": "测试人0", "resident_id": people[0], "phone": "13900000000"}
                    ]
                ),
                headers=auth() | {"Idempotency-Key": "drill-0"},
            )
            assert retried.json()["case_number"] == numbers[0]
    finally:
        conn = await asyncpg.connect(servers.postgres_url)
        try:
            await conn.execute(
                f'DROP DATABASE IF EXISTS "{restored.rsplit("/", 1)[1]}" WITH (FORCE)'
            )
        finally:
            await conn.close()
