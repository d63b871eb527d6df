"""The time source every service takes from its composition root.

Services never call ``datetime.now`` in their logic: what "today" is decides deadlines, reminders,
reception days and report dates, so tests pin it (and name their dates) and production passes
:func:`utc_now`. Instants are UTC; the bureau's local date is derived where it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
