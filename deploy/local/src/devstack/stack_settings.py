"""Where the local stack lives and listens: the database, the services' and workbench's ports,
the repository and demo configuration, and how devstack speaks to the terminal."""

from __future__ import annotations

import os
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from devstack.processes import say

DATABASE = "petitions"
SERVICES = {"intake": 8001, "assignment": 8002, "reporting": 8003}
# The workbench's one address: the built front end with the three APIs behind it (gateway.py).
WORKBENCH_PORT = 8000
HEALTH_DEADLINE = 60.0
# deploy/local/src/devstack/stack_settings.py -> the repository (installed editable).
REPO_ROOT = Path(__file__).resolve().parents[4]
DEMO_BUREAU_CONFIG = REPO_ROOT / "deploy" / "config" / "bureaus.demo.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
IDENTITY_VARIABLES = ("PETITIONS_OIDC_ISSUER", "PETITIONS_JWKS_URL", "PETITIONS_JWKS_FILE")


class Signalled(KeyboardInterrupt):
    """SIGINT/SIGTERM turned into an exception, so start-up waits anywhere are interrupted too.
    A KeyboardInterrupt so that neither `except Exception` in probes nor asyncio's callback
    error handling swallows it."""


def raise_on_signal(signum: int, frame: FrameType | None) -> None:
    raise Signalled(signum)


def tell(message: str) -> None:
    say(f"devstack: {message}")


def service_port(name: str) -> int:
    return int(os.environ.get(f"PETITIONS_{name.upper()}_PORT", SERVICES[name]))
