"""Servers for a benchmark run: the ones named by PETITIONS_DATABASE_URL / PETITIONS_NATS_URL, or
PostgreSQL and NATS from the PyPI wheels in a throw-away folder (the same as `make test`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _provision(nats_url: str) -> None:
    """The stream and the services' durables, as a deployment creates them (the services only
    bind). The benchmark's NATS has no identities: it measures throughput, not permissions."""
    import asyncio

    from petitions.messaging import NatsAccess, provision

    asyncio.run(provision(NatsAccess(nats_url)))


@contextmanager
def bench_servers() -> Iterator[tuple[str, str]]:
    """Yield (admin PostgreSQL URL on the maintenance database, NATS URL)."""
    db_url = os.environ.get("PETITIONS_DATABASE_URL")
    nats_url = os.environ.get("PETITIONS_NATS_URL")
    if db_url and nats_url:
        _provision(nats_url)
        yield db_url.rpartition("/")[0] + "/postgres", nats_url
        return
    from devstack.servers import start_nats, start_postgres

    base = ROOT / ".devstack"
    base.mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    try:
        with start_postgres(data / "postgres") as pg, start_nats(data / "nats") as nats:
            _provision(nats.url)
            yield pg.url, nats.url
    finally:
        shutil.rmtree(data, ignore_errors=True)
