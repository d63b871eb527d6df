"""Operator commands find the running system and fail in one clear line (issue 16).

Run from a project folder where ``make up`` runs (its ``.devstack/data/env`` names the servers),
with PETITIONS_DATABASE_URL unset, ``python -m petitions.messaging`` and ``petitions audit`` use
devstack's servers, not the default port 5432. When the database cannot be reached, each prints
one bilingual line saying where the address came from and what to do: no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from devstack.servers import free_port
from petitions.operator import DEVSTACK_ENV, shown_url

pytestmark = pytest.mark.integration


def project_with_devstack(root: Path, database_url: str) -> Path:
    """A project folder as ``make up`` leaves it while running (URLs file and all)."""
    env = root / DEVSTACK_ENV
    env.parent.mkdir(parents=True)
    env.write_text(
        f"PETITIONS_DATABASE_URL={database_url}\nPETITIONS_NATS_URL=nats://127.0.0.1:1\n"
    )
    (root / "services").mkdir()
    return root


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_messaging_commands_find_devstack_from_the_project_folder(
    database_url: str, tmp_path: Path
) -> None:
    project = project_with_devstack(tmp_path / "project", database_url)
    # From a folder below the project's, as an operator in services/ would.
    status = run(["-m", "petitions.messaging", "relay-status"], project / "services")
    assert "relay cursor" in status.stdout, status.stderr
    assert status.returncode == 1  # no relay runs on the test's database: said, and exit 1
    assert "NO relay is active" in status.stdout
    letters = run(["-m", "petitions.messaging", "dead-letters"], project)
    assert (letters.returncode, letters.stdout.strip()) == (0, "没有死信 no dead letters")


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "petitions.messaging", "relay-status"],
        ["-m", "petitions.messaging", "dead-letters"],
        ["-m", "reporting.cli", "audit", "330102-2026-000001"],
    ],
)
def test_an_unreachable_database_is_one_bilingual_line(command: list[str], tmp_path: Path) -> None:
    nobody = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/petitions"
    project = project_with_devstack(tmp_path / "project", nobody)
    result = run(command, project)
    assert result.returncode in (2, 3), (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "Traceback" not in line
    assert "连不上" in line
    assert "cannot reach the event store" in line
    assert "devstack (" in line  # where the address came from
    assert "make up" in line
    assert "PETITIONS_DATABASE_URL" in line
    assert "secret" not in line  # never the password


def test_the_environment_wins_over_devstack(database_url: str, tmp_path: Path) -> None:
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/petitions"
    project = project_with_devstack(tmp_path / "project", nobody)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")}
    env["PETITIONS_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-m", "petitions.messaging", "dead-letters"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "没有死信 no dead letters")


def test_a_password_is_never_shown() -> None:
    assert shown_url("postgresql://app:s3cret@db:5432/petitions") == (
        "postgresql://app:***@db:5432/petitions"
    )
    assert shown_url("postgresql://postgres@127.0.0.1:54329/petitions") == (
        "postgresql://postgres@127.0.0.1:54329/petitions"
    )
