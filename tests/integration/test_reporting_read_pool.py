"""The reporting read pool's session settings hold on every pooled connection, also after a
connection went back to the pool (a reset must not undo them): report queries are planned per
run, without JIT compilation, with room for their hashes and sorts (issue 17)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.integration import test_reporting_projections as projections

pytestmark = pytest.mark.integration

read_pool = projections.read_pool


async def test_every_read_connection_plans_reports_without_jit_and_with_work_mem(
    read_pool: asyncpg.Pool,
) -> None:
    for _ in range(3):  # through release and acquire again
        async with read_pool.acquire() as conn:
            assert await conn.fetchval("SHOW jit") == "off"
            assert await conn.fetchval("SHOW work_mem") == "64MB"
            assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
            assert await conn.fetchval("SHOW search_path") == "reporting"
