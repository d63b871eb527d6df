"""Reporting's events: reads of a case's audit timeline (审计查阅记录).

Reads go on the stream ``audit-<case id>`` in the event store, not into a table: they are then
hash-chained like the case itself, so nobody can quietly drop the record of having looked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from petitions.messages.base import Event


class TimelineRead(Event, type="reporting.TimelineRead"):
    """Someone read a case's audit timeline (or its state as of a moment). Who read is also the
    event's actor; the reporting service appends it before it answers."""

    case_id: UUID
    reader: str
    role: str  # the reader's role (petitions.identity.Role), or "cli" for the operator command
    purpose: str  # why, in the reader's words ("" when not given)
    as_of: datetime | None  # the moment asked about; None: the case as it is now
    verified: bool | None  # the hash-chain result shown with it; None: not asked to verify
    by: Literal["recorded", "occurred"] = "recorded"  # which clock as_of was compared with
    view: Literal["timeline", "state"] = "timeline"
    via: Literal["api", "cli"] = "api"
    # The reader's bureau as their token named it (None: the operator command, or a read
    # recorded before the bureau was). Optional, so older reads still decode as they are.
    reader_bureau: str | None = None
