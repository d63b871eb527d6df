"""devstack notices one dead node of its NATS cluster (PETITIONS_NATS_CLUSTER=3) instead of
running on two in silence: it says so in one line, starts the node again and the node rejoins
with the stream replicated on it; the stack itself carries on throughout (issue 11)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
import pytest
from devstack.processes import RestartPolicy
from devstack.servers import NatsServer, start_nats_cluster
from devstack.stack import Stack, cluster_watch
from petitions.messaging.provision import provision
from petitions.messaging.security import ADMIN, generate_passwords
from petitions.messaging.subjects import STREAM

pytestmark = pytest.mark.integration


async def _replica_current(node: NatsServer) -> bool:
    """The restarted node serves JetStream again and the stream's replica on it is current."""
    try:
        client = await nats.connect(
            **node.access(ADMIN).options(), connect_timeout=2, allow_reconnect=False
        )
    except Exception:  # not listening yet
        return False
    try:
        info = await client.jetstream().stream_info(STREAM)
    except Exception:  # JetStream not ready on it yet
        return False
    finally:
        await client.close()
    cluster = info.cluster
    if cluster is None or node.cluster is None:
        return False
    peers = {p.name: p for p in cluster.replicas or []}
    if cluster.leader == node.cluster.name:
        return True
    peer = peers.get(node.cluster.name)
    return peer is not None and bool(peer.current)


async def test_a_dead_cluster_node_is_reported_and_restarted(tmp_path: Path) -> None:
    lines: list[str] = []
    with start_nats_cluster(tmp_path / "nats", 3, passwords=generate_passwords()) as cluster:
        await provision(cluster.access(ADMIN), replicas=3)
        watch = cluster_watch(
            cluster, policy=lambda: RestartPolicy(initial_backoff=0.2), report=lines.append
        )
        stack = Stack(nats=cluster, nats_nodes=watch)
        assert stack.first_dead() is None
        assert lines == []

        victim = cluster.nodes[1]
        first_pid = victim.pid
        victim.kill()
        deadline = time.monotonic() + 60
        while not (watch.restarts("n2") == 1 and victim.poll() is None):
            # The stack does not end: the cluster still has its majority.
            assert stack.first_dead() is None
            assert time.monotonic() < deadline, f"n2 was not restarted: {lines}"
            await asyncio.sleep(0.1)
        assert victim.pid != first_pid
        assert len(lines) == 2
        assert "NATS 节点 n2 意外退出 exited unexpectedly" in lines[0]
        assert "the cluster runs on 2/3 nodes" in lines[0]
        assert "restarted NATS node n2" in lines[1]

        deadline = time.monotonic() + 60
        while not await _replica_current(victim):
            assert time.monotonic() < deadline, "n2 did not rejoin the cluster"
            stack.first_dead()
            await asyncio.sleep(0.2)
        assert stack.first_dead() is None
        assert len(lines) == 2  # nothing more to say
