"""`make bench`: run every benchmark against real servers (PyPI wheels unless the environment
names servers), print each figure beside its ceiling, and write bench/results/*.json.

`python -m bench reporting` (or `eventstore`, `intake`, several) runs only those."""

from __future__ import annotations

import sys
from collections.abc import Callable

from petitions.runtime import tune_gc

from bench import eventstore, intake, reporting
from bench.servers import bench_servers

BENCHMARKS: dict[str, Callable[[str, str], object]] = {
    "eventstore": lambda admin_url, _nats_url: eventstore.main(admin_url),
    "intake": intake.main,
    "reporting": reporting.main,
}


def main(argv: list[str] | None = None) -> None:
    chosen = argv if argv is not None else sys.argv[1:]
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
