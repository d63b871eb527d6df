"""PostgreSQL and NATS JetStream from their PyPI wheels, run as child processes.

Used by ``devstack up`` and by the pytest suite. Both servers listen on 127.0.0.1 only, keep
their data in a folder the caller chooses, and die with the process that started them.

The parts live by role: children.py (spawning, ports, log files), postgres.py and
nats_server.py; this module re-exports what callers import from ``devstack.servers``.
"""

from __future__ import annotations

from devstack.children import (
    ServerError,
    ensure_port_free,
    free_port,
    set_parent_death_signal,
    spawn,
)
from devstack.nats_server import (
    ClusterNode,
    NatsCluster,
    NatsServer,
    start_nats,
    start_nats_cluster,
)
from devstack.postgres import POSTGRES_BIN_PATH, PostgresServer, ensure_database, start_postgres

__all__ = [
    "POSTGRES_BIN_PATH",
    "ClusterNode",
    "NatsCluster",
    "NatsServer",
    "PostgresServer",
    "ServerError",
    "ensure_database",
    "ensure_port_free",
    "free_port",
    "set_parent_death_signal",
    "spawn",
    "start_nats",
    "start_nats_cluster",
    "start_postgres",
]
