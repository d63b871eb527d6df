"""`make bench`: run every benchmark against real servers (PyPI wheels unless the environment
names servers), print each figure beside its ceiling, and write bench/results/*.json."""

from __future__ import annotations

from petitions.runtime import tune_gc

from bench import eventstore, intake, reporting
from bench.servers import bench_servers


def main() -> None:
    tune_gc()  # as every service does at start
    with bench_servers() as (admin_url, nats_url):
        eventstore.main(admin_url)
        intake.main(admin_url, nats_url)
        reporting.main(admin_url, nats_url)


if __name__ == "__main__":
    main()
