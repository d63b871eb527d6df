"""devstack's handling of the processes it runs: which output lines reach the terminal, when a
dead process is started again and when devstack gives up (issue 16)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from devstack.processes import (
    ClusterWatch,
    GaveUp,
    RestartPolicy,
    ServiceProcess,
    Supervisor,
    line_level,
)

INFO, WARNING, ERROR = 20, 30, 40


@pytest.mark.parametrize(
    ("line", "previous", "expected"),
    [
        ('{"event": "request", "level": "info", "service": "intake"}', ERROR, INFO),
        ('{"event": "relay.unavailable", "level": "warning"}', INFO, WARNING),
        ('{"event": "supervisor.gave_up", "level": "error"}', INFO, ERROR),
        # structlog's console renderer, with and without colours
        ("2026-12-06T07:40:00.1Z [info     ] request.done   path=/x", ERROR, INFO),
        ("2026-12-06T07:40:00.1Z [warning  ] relay.unavailable", INFO, WARNING),
        (
            "\x1b[2m2026-12-06T07:40:00.1Z\x1b[0m [\x1b[31m\x1b[1merror    \x1b[0m] boom",
            INFO,
            ERROR,
        ),
        # a traceback's lines follow the line before them
        ("Traceback (most recent call last):", ERROR, ERROR),
        ('  File "x.py", line 1, in <module>', INFO, INFO),
        ("{not json at all", WARNING, WARNING),
    ],
)
def test_line_level(line: str, previous: int, expected: int) -> None:
    assert line_level(line, previous) == expected


def test_restart_policy_backs_off_then_gives_up_on_quick_deaths() -> None:
    policy = RestartPolicy(max_failures=4, window=60, initial_backoff=1, max_backoff=3)
    assert [policy.died(t) for t in (0, 1, 3)] == [1, 2, 3]
    assert policy.died(6) is None  # the fourth death within 60 s


def test_restart_policy_forgets_deaths_outside_its_window() -> None:
    policy = RestartPolicy(max_failures=3, window=60, initial_backoff=1)
    assert policy.died(0) == 1
    assert policy.died(10) == 2
    # The two before are more than 60 s ago: this counts as a first death again.
    assert policy.died(200) == 1


SLEEP = "import time; time.sleep(60)"


def _sleeper(tmp_path: Path, name: str, code: str = SLEEP) -> ServiceProcess:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )

    return ServiceProcess(name, 0, start, tmp_path / f"{name}.log")


def _until(condition: object, seconds: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_supervisor_restarts_a_killed_process_and_logs_to_its_file(tmp_path: Path) -> None:
    service = _sleeper(tmp_path, "sleeper")
    service.launch()
    supervisor = Supervisor(lambda: RestartPolicy(initial_backoff=0.1))
    supervisor.watch(service)
    try:
        first = service.process
        assert first is not None
        first.kill()
        first.wait()

        def restarted() -> bool:
            supervisor.check()
            return service.process is not first and service.poll() is None

        _until(restarted)
        assert supervisor.restarts("sleeper") == 1
        log = (tmp_path / "sleeper.log").read_text()
        assert "devstack: start sleeper" in log
        assert "devstack: restart sleeper" in log
    finally:
        service.stop()


def test_supervisor_gives_up_on_a_process_that_keeps_exiting(tmp_path: Path) -> None:
    service = _sleeper(tmp_path, "crasher", "import sys; print('cannot start'); sys.exit(3)")
    service.launch()
    supervisor = Supervisor(lambda: RestartPolicy(max_failures=3, initial_backoff=0.05))
    supervisor.watch(service)

    def checked_never_done() -> bool:
        supervisor.check()  # raises GaveUp once the process has exited too often
        return False

    with pytest.raises(GaveUp) as raised:
        _until(checked_never_done, seconds=20)
    message = str(raised.value)
    assert "crasher" in message
    assert "keeps exiting (3 times" in message
    assert "last code 3" in message
    assert "cannot start" in message  # its last output, to see why
    assert str(tmp_path / "crasher.log") in message
    assert supervisor.restarts("crasher") == 2


class _FakeNode:
    """A cluster node that dies when told to and whose restarts can be made to fail."""

    def __init__(self, name: str) -> None:
        self.log_path = Path(f"/logs/{name}.log")
        self.code: int | None = None
        self.restarted = 0
        self.dies_on_restart = False

    def poll(self) -> int | None:
        return self.code

    def restart(self) -> None:
        self.restarted += 1
        self.code = 1 if self.dies_on_restart else None


def test_a_dead_cluster_node_is_reported_once_and_restarted() -> None:
    nodes = {name: _FakeNode(name) for name in ("n1", "n2", "n3")}
    lines: list[str] = []
    now = [100.0]
    watch = ClusterWatch(nodes, clock=lambda: now[0], report=lines.append)
    watch.check()
    assert lines == []  # all running: nothing to say

    nodes["n2"].code = -9
    watch.check()
    watch.check()  # still waiting for its backoff: said once only
    assert len(lines) == 1
    assert "NATS 节点 n2 意外退出 exited unexpectedly (code -9)" in lines[0]
    assert "the cluster runs on 2/3 nodes" in lines[0]
    assert "restarting it in 1 s" in lines[0]
    assert "/logs/n2.log" in lines[0]
    assert nodes["n2"].restarted == 0

    now[0] += 1.0
    watch.check()
    assert nodes["n2"].restarted == 1
    assert watch.restarts("n2") == 1
    assert lines[-1].startswith("devstack: 已重启 NATS 节点 restarted NATS node n2")
    watch.check()
    assert len(lines) == 2


def test_a_cluster_node_that_keeps_dying_is_left_down_and_said_so_once() -> None:
    nodes = {name: _FakeNode(name) for name in ("n1", "n2", "n3")}
    nodes["n3"].dies_on_restart = True
    nodes["n3"].code = 1
    lines: list[str] = []
    now = [0.0]
    watch = ClusterWatch(
        nodes,
        policy=lambda: RestartPolicy(max_failures=3, initial_backoff=1.0),
        clock=lambda: now[0],
        report=lines.append,
    )
    for _ in range(40):
        watch.check()
        now[0] += 0.5
    assert nodes["n3"].restarted == 2
    given_up = [line for line in lines if "不再重启" in line]
    assert len(given_up) == 1
    assert "NATS 节点 n3 反复退出，不再重启 keeps exiting" in given_up[0]
    assert "the cluster runs on 2/3 nodes" in given_up[0]
    assert lines[-1] == given_up[0]  # and nothing after it
