"""FastStream's own log records as they reach ours (petitions.messaging.brokers): a broken
connection is left to our connection callbacks, and a restarted subscriber task is one warning
line without FastStream's traceback and plea to file an issue."""

from __future__ import annotations

import logging
import sys

from petitions.messaging.brokers import FASTSTREAM_LOGGER


def _record(message: str, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = None
    if error is not None:
        try:
            raise error
        except BaseException:
            exc_info = sys.exc_info()
    return FASTSTREAM_LOGGER.makeRecord(
        FASTSTREAM_LOGGER.name, logging.ERROR, __file__, 1, message, (), exc_info
    )


def test_a_restarted_task_is_one_warning_naming_the_exception() -> None:
    record = _record(
        "Task-33 raised an exception, retrying...\nIf this behavior causes issues, you can "
        "disable it via setting the FASTSTREAM_SUPERVISOR_DISABLED env to 1.",
        TimeoutError(),
    )
    assert FASTSTREAM_LOGGER.filter(record)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "faststream.task_restarted: a subscriber task ended with TimeoutError, restarted"
    )


def test_a_broken_connection_is_left_to_the_connection_callbacks() -> None:
    assert not FASTSTREAM_LOGGER.filter(_record("Connection broken: ...", OSError()))


def test_other_records_pass_unchanged() -> None:
    record = _record("Task-7 raised an exception and won't be restarted.", ValueError("x"))
    assert FASTSTREAM_LOGGER.filter(record)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
