"""`make bench`: run every benchmark against real servers (PyPI wheels unless the environment
names servers), print each figure beside its ceiling, and write bench/results/*.json.

`python -m bench reporting` (or `eventstore`, `intake`, `scale`, several) runs only those;
`python -m bench scale --cases 100000` sizes the scale benchmark."""

from __future__ import annotations

import sys
from collections.abc import Callable

from petitions.runtime import tune_gc

from bench import eventstore, intake, replicas, reporting, scale
from bench.servers import bench_servers

BENCHMARKS: dict[str, Callable[[str, str], object]] = {
    "eventstore": lambda admin_url, _nats_url: eventstore.main(admin_url),
    "intake": intake.main,
    "reporting": reporting.main,
    "scale": lambda admin_url, nats_url: scale.main(admin_url, nats_url, _OPTIONS),
    "replicas": lambda admin_url, nats_url: replicas.main(admin_url, nats_url, _OPTIONS),
}
_OPTIONS: list[str] = []  # options after the names (`scale --cases N`)


def main(argv: list[str] | None = None) -> None:
    given = argv if argv is not None else sys.argv[1:]
    first_option = next((k for k, arg in enumerate(given) if arg.startswith("--")), len(given))
    chosen = given[:first_option]
    _OPTIONS[:] = given[first_option:]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown}; choose from {', '.join(BENCHMARKS)}")
    tune_gc()  # as every service does at start
    with bench_servers() as (admin_url, nats_url):
        for name, run in BENCHMARKS.items():
            if not chosen or name in chosen:
                run(admin_url, nats_url)


if __name__ == "__main__":
    main()
