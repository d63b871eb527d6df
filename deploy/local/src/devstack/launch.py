"""Starting the services and the workbench as supervised processes, waiting until they are
healthy, and the summary printed for the person at the terminal."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from devstack.processes import (
    ServiceProcess,
)
from devstack.servers import (
    ServerError,
    ensure_port_free,
    spawn,
)
from devstack.stack_settings import HEALTH_DEADLINE, SHANGHAI, tell


def log_folder(data: Path) -> Path:
    return data / "logs"


def start_service(
    name: str,
    port: int,
    database_url: str,
    nats_url: str,
    extra_env: dict[str, str],
    logs: Path,
) -> ServiceProcess:
    env = (
        os.environ
        | {"PETITIONS_DATABASE_URL": database_url}
        | extra_env  # the services' own login, when devstack made one
        | {
            "PETITIONS_NATS_URL": nats_url,
            "PETITIONS_HTTP_PORT": str(port),
            "PYTHONUNBUFFERED": "1",  # so its log lines reach the file as they happen
        }
    )
    if sys.stdout.isatty() and "PETITIONS_LOG_FORMAT" not in os.environ:
        # Its stdout is our pipe, so "auto" would pick JSON; the person who follows the log file
        # from a terminal (tail -f) wants text.
        env["PETITIONS_LOG_FORMAT"] = "console"
    return _launched(name, port, [sys.executable, "-m", name], env, logs)


def _launched(
    name: str, port: int, command: list[str], env: dict[str, str], logs: Path
) -> ServiceProcess:
    def start() -> subprocess.Popen[bytes]:
        ensure_port_free(port, name)
        return spawn(
            command,
            death_signal=signal.SIGTERM,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    service = ServiceProcess(name, port, start, logs / f"{name}.log")
    service.launch()
    return service


def start_workbench(
    port: int,
    services: list[ServiceProcess],
    issuer_key: Path | None,
    extra_env: dict[str, str],
    logs: Path,
) -> ServiceProcess:
    env = (
        os.environ
        | extra_env
        | {f"PETITIONS_{s.name.upper()}_URL": s.url for s in services}
        | {"PYTHONUNBUFFERED": "1"}
    )
    command = [sys.executable, "-m", "devstack.gateway", "--port", str(port)]
    if issuer_key is not None:  # development sign-in only with the development issuer
        command += ["--issuer-key", str(issuer_key)]
    return _launched("workbench", port, command, env, logs)


def wait_healthy(services: list[ServiceProcess]) -> None:
    deadline = time.monotonic() + HEALTH_DEADLINE
    waiting = list(services)
    while waiting:
        for service in list(waiting):
            code = service.poll()
            if code is not None:
                raise ServerError(
                    f"服务 {service.name} 启动时退出 exited during start-up (code {code}); "
                    f"log {service.log_path}; last output:\n{service.tail_text()}"
                )
            if service.answers("/health"):
                tell(f"{service.name} 已就绪 ready at {service.url}")
                waiting.remove(service)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(s.name for s in waiting)
            raise ServerError(
                f"{names} 未在 {HEALTH_DEADLINE:.0f} 秒内通过健康检查 "
                f"did not answer GET /health with 200 within {HEALTH_DEADLINE:.0f} s"
            )
        time.sleep(0.3)


def _shown(path: Path) -> str:
    """``path`` as the person at the terminal would type it: relative when under the cwd."""
    with contextlib.suppress(ValueError):
        relative = path.relative_to(Path.cwd())
        return str(relative) if relative.parent != Path() else f"./{relative}"
    return str(path)


def _try_it(services: list[ServiceProcess], issuer_key: Path | None) -> list[str]:
    if not services:
        return []
    if issuer_key is None:
        issuer = os.environ.get("PETITIONS_OIDC_ISSUER") or "?"
        return [f" 令牌 tokens: 由 from {issuer} 签发 (PETITIONS_OIDC_ISSUER)"]
    mint = f"{_shown(Path(sys.executable))} -m petitions.identity mint --key {_shown(issuer_key)}"
    urls = {s.name: s.url for s in services}
    intake = urls.get("intake", services[0].url)
    assignment = urls.get("assignment", intake)
    reporting = urls.get("reporting", intake)
    month = (datetime.now(SHANGHAI).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return [
        " 试一试 try it (开发令牌 development tokens, 8 h). Roles: registrar handler",
        "   sub_bureau_head leader petition_office auditor admin importer",
        f"   TOKEN=$({mint} --user office1 --role petition_office --bureau 3301)",
        '   AUTH="Authorization: Bearer $TOKEN"',
        f'   curl -H "$AUTH" "{reporting}/api/v1/reports/figures?bureau=3301&month={month}"',
        f'   curl -H "$AUTH" "{reporting}/api/v1/reports/accompany-roster?month={month}"',
        f'   curl -H "$AUTH" -o ledger.xlsx "{reporting}/api/v1/reports/ledger.xlsx?bureau=3301"',
        f'   curl -H "$AUTH" "{assignment}/api/v1/cases?overdue_on=$(date +%F)"',
        f"   # 登记 register: POST {intake}/api/v1/submissions (see README, 'Try it')",
        "   # 审计 audit:  .venv/bin/petitions audit <案件编号 case number> --verify",
    ]


def print_summary(
    database_url: str,
    nats_url: str,
    services: list[ServiceProcess],
    data: Path | None,
    issuer_key: Path | None = None,
    server_logs: list[tuple[str, Path]] | None = None,
) -> None:
    rule = "─" * 78
    rows = [("PostgreSQL", database_url), ("NATS", f"{nats_url}  (JetStream)")]
    rows += [
        (s.name, f"{s.url}   API 文档 docs: {s.url}/docs")
        for s in services
        if s.name != "workbench"
    ]
    rows += [
        ("workbench", f"{s.url}/   工作台: 浏览器打开这里 open this in a browser")
        for s in services
        if s.name == "workbench"
    ]
    print(rule)
    print(" 信访台帐 本地环境已就绪  petition ledger local stack is ready")
    print(rule)
    for name, where in rows:
        print(f" {name:<12} {where}")
    if data is not None:
        print(f" {'数据 data':<10} {data}")
    print(rule)
    logs = _log_lines(services, server_logs or [])
    if logs:
        print("\n".join(logs))
        print(rule)
    try_it = _try_it(services, issuer_key)
    if try_it:
        print("\n".join(try_it))
        print(rule)
    print(" 按 Ctrl-C 停止全部  Press Ctrl-C to stop everything.", flush=True)


def _log_lines(services: list[ServiceProcess], server_logs: list[tuple[str, Path]]) -> list[str]:
    """Where each process writes its log, and how to follow them (only warnings and errors are
    shown on this terminal)."""
    files = [(s.name, s.log_path) for s in services] + server_logs
    if not files:
        return []
    lines = [" 日志 logs (此处只显示警告和错误 only warnings and errors are shown here):"]
    lines += [f"   {name:<11} {_shown(path)}" for name, path in files]
    folders = sorted({path.parent for _, path in files if path.suffix == ".log"}, key=str)
    pattern = " ".join(_shown(folder / "*.log") for folder in folders)
    lines.append(f"   跟踪 follow: tail -f {pattern}")
    return lines
