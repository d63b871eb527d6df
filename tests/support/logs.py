"""The services' log configuration inside one test."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import structlog
from petitions.log import configure_logging


@contextlib.contextmanager
def json_logging() -> Iterator[None]:
    """Log as a service does (JSON lines on stderr, masked) for the block; then the root logger
    gets its handlers back, since the configured one writes to the test's captured stream, which
    closes with the test (later tests' lines would fail on it), and structlog its defaults."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(service="tests", fmt="json")
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
