"""Log times are Asia/Shanghai in ISO 8601 with the offset stated, on every line, from structlog
and the standard library alike (issue 16)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import structlog
from petitions.log import configure_logging, get_logger, timestamper


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (datetime(2026, 11, 4, 2, 0, tzinfo=UTC), "2026-11-04T10:00:00.000+08:00"),
        # Already New Year's Day in Shanghai while it is still 31 December in UTC.
        (datetime(2026, 12, 31, 17, 30, 0, 123456, tzinfo=UTC), "2027-01-01T01:30:00.123+08:00"),
    ],
)
def test_timestamp_is_shanghai_time_with_its_offset(instant: datetime, shown: str) -> None:
    stamped = timestamper(lambda: instant)(None, "info", {"event": "x"})
    # structlog's Processor may return a str or bytes (a renderer); this one returns the dict.
    assert isinstance(stamped, dict)
    assert stamped["timestamp"] == shown
    assert datetime.fromisoformat(stamped["timestamp"]) == instant.replace(
        microsecond=instant.microsecond // 1000 * 1000
    )


def test_every_configured_line_carries_the_offset(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="tests", fmt="json")
    try:
        get_logger("t").info("structlog.line")
        logging.getLogger("plain").warning("stdlib line")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert [line["event"] for line in lines] == ["structlog.line", "stdlib line"]
        for line in lines:
            moment = datetime.fromisoformat(line["timestamp"])
            assert line["timestamp"].endswith("+08:00")
            assert moment.utcoffset() is not None
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
