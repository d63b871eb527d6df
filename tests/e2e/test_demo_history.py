"""The demo history loads through the public APIs of intake and assignment, started as
processes the way `make up` starts them, with cases reaching assignment through NATS."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from devstack.demo import Demo
from petitions.bureaus import load_config
from petitions.identity import LocalIssuer

from tests.conftest import ROOT, Servers
from tests.e2e.test_services_start import _free_port, service_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def services(
    service_env: dict[str, str],  # noqa: F811
    servers: Servers,
    nats_url: str,
    tmp_path: Path,
) -> Iterator[dict[str, str]]:
    """Intake and assignment as processes, each with its own NATS identity, on the stream and
    durables the ``nats_url`` fixture provisioned. Their logs go to files whose warnings and
    errors are printed at teardown: pytest shows them when the test fails (a 503 says only
    "database unavailable"; the log says why)."""
    del nats_url
    urls: dict[str, str] = {}
    procs = []
    logs = {name: tmp_path / f"{name}.log" for name in ("intake", "assignment")}
    for name in ("intake", "assignment"):
        port = _free_port()
        env = {
            **service_env,
            **servers.env(name),
            "PETITIONS_HTTP_PORT": str(port),
            "PETITIONS_LOG_FORMAT": "json",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", name],
                env=env,
                stdout=logs[name].open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        for url in urls.values():
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
        for name, log in logs.items():
            serious = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if '"level": "warning"' in line or '"level": "error"' in line or "Traceback" in line
            ]
            print(
                f"--- {name}: {len(serious)} warnings/errors (last 40) ---",
                *serious[-40:],
                sep="\n",
            )


async def test_demo_history_goes_through_the_apis(
    services: dict[str, str],
    service_env: dict[str, str],  # noqa: F811
) -> None:
    issuer = LocalIssuer(Path(service_env["PETITIONS_JWKS_FILE"]).with_name("issuer.pem"))
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    demo = Demo(
        services["intake"],
        services["assignment"],
        lambda user, role, bureau: issuer.mint(user, role, bureau),
        [s.code for s in config.sub_bureaus],
        scale=0.04,
        say=lambda _: None,
    )
    result = await demo.run()
    assert result["cases"] == 36
    headers = {"Authorization": f"Bearer {issuer.mint('office', 'petition_office', '3301')}"}
    async with httpx.AsyncClient(base_url=services["assignment"]) as http:
        listed = (await http.get("/api/v1/cases", params={"limit": 1000}, headers=headers)).json()
    assert len(listed) == result["cases"]
    states = Counter(row["state"] for row in listed)
    # Two years of history: most cases replied long ago, a few still open, none stuck unopened.
    assert states["registered"] == 0
    assert states["replied"] + states["terminated"] + states["reviewed"] > len(listed) // 2
