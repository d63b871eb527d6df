"""Settings shared by every service, read from the environment (prefix ``PETITIONS_``).

Each service composes these with its own settings in its composition root; nothing reads
``os.environ`` directly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from petitions.messaging.security import NatsAccess


class CommonSettings(BaseSettings):
    """What every process of the system needs to know."""

    model_config = SettingsConfigDict(env_prefix="PETITIONS_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/petitions",
        description="Event store PostgreSQL URL (asyncpg/libpq form).",
    )
    db_role: str = Field(
        default="petitions_app",
        description=(
            "Role the services switch to after connecting (SET ROLE): it may only INSERT and "
            "SELECT events. Empty to stay as the connecting user."
        ),
    )
    migrate_on_start: bool = Field(
        default=True,
        description=(
            "Apply the schema migrations at start-up, which needs the tables' owner's login. "
            "Deployments that log the services in as petitions_service (devstack, compose) set "
            "false and run `python -m petitions.migrate` as the owner first; the service then "
            "only checks that the schema is current and refuses to start otherwise."
        ),
    )
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS server URL (without credentials: they are the settings below).",
    )
    nats_user: str | None = Field(
        default=None,
        description=(
            "This process's NATS user (petitions-intake, -assignment, -reporting; "
            "petitions-admin for operator commands). None connects anonymously, which a "
            "server with identities refuses."
        ),
    )
    nats_password: SecretStr | None = Field(default=None, description="Its NATS password.")
    nats_relay_user: str = Field(
        default="petitions-relay",
        description="The relay's NATS user: the only identity allowed to publish events.",
    )
    nats_relay_password: SecretStr | None = Field(
        default=None,
        description=(
            "The relay's NATS password; needed where run_relay is on and NATS has identities."
        ),
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise."
    )
    log_level: str = Field(default="INFO")
    hash_algorithm: str = Field(
        default="sm3", description="Hash for new events' chain links (GB/T 32905 SM3 by default)."
    )
    kek: SecretStr | None = Field(
        default=None,
        description=(
            "Key-encryption key for personal data, base64 of 16 bytes (SM4). In production put it "
            "in an HSM or KMS behind petitions.personal.KeyService instead."
        ),
    )
    kek_id: str = Field(default="local-1", description="Names the KEK version in wrapped keys.")
    blind_index_key: SecretStr | None = Field(
        default=None, description="HMAC-SM3 key for ID-number and phone look-ups, base64, 32 bytes."
    )
    key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a process keeps unwrapped data keys (bounds erasure's reach delay).",
    )
    max_event_bytes: int = Field(
        default=512 * 1024,
        ge=1024,
        le=1024 * 1024,
        description=(
            "Largest event data (UTF-8 bytes, as stored) an append accepts; keep it well below "
            "the NATS server's max_payload (1 MiB by default), which must also hold the envelope "
            "and headers. A larger event is refused at append, never stored."
        ),
    )
    run_relay: bool = Field(
        default=True,
        description="Stand by to relay stored events to NATS (one process at a time does).",
    )
    stall_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Readiness fails when the active relay or a consumer has made no progress (a batch "
            "handled, or a look that found nothing to do) for this many seconds."
        ),
    )
    supervisor_max_failures: int = Field(
        default=5,
        ge=1,
        description=(
            "A background task (relay, consumer, sweep) that fails this many times within "
            "supervisor_window_seconds is given up on: the process stops, exit code 70, for its "
            "orchestrator to restart."
        ),
    )
    supervisor_window_seconds: float = Field(default=300.0, gt=0)
    http_host: str = Field(default="127.0.0.1")

    def nats(self) -> NatsAccess:
        """How this process connects to NATS as itself."""
        return NatsAccess(self.nats_url, self.nats_user, self.nats_password)

    def relay_nats(self) -> NatsAccess:
        """How this process's relay connects: as the relay, when its password is given."""
        if self.nats_relay_password is None:
            return self.nats()
        return NatsAccess(self.nats_url, self.nats_relay_user, self.nats_relay_password)

    http_port: int | None = Field(
        default=None, description="HTTP port; each service has its own default."
    )
