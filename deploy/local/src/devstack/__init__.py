"""Local PostgreSQL + NATS JetStream from PyPI wheels, and `devstack up` for the whole system."""

from devstack.servers import (
    NatsServer,
    PostgresServer,
    ServerError,
    ensure_database,
    free_port,
    start_nats,
    start_postgres,
)

__all__ = [
    "NatsServer",
    "PostgresServer",
    "ServerError",
    "ensure_database",
    "free_port",
    "start_nats",
    "start_postgres",
]
