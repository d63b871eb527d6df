"""The statutory periods (信访工作条例 Arts. 23, 34-36), once: the deadlines are computed from
them, the commands validated against them and the case's own last days counted with them.
Editing one here changes every use."""

from __future__ import annotations

from typing import Final

ACCEPTANCE_DAYS: Final = 15
"""Art. 23: decide on acceptance within 15 days of receipt."""
OBJECTION_WORKING_DAYS: Final = 5
"""Art. 23: a case assigned from above may be objected to within 5 working days."""
HANDLING_DAYS: Final = 60
"""Art. 34: handle within 60 days of acceptance."""
MAX_EXTENSION_DAYS: Final = 30
"""Art. 34: one extension of at most 30 days."""
REVIEW_REQUEST_DAYS: Final = 30
"""Arts. 35-36: 30 days from receiving the decision to ask for review or re-review."""
REVIEW_DAYS: Final = 30
"""Arts. 35-36: 30 days to decide a review or re-review."""
REMINDER_WORKING_DAYS: Final = (5, 1)
"""Reminders go out this many working days before a running deadline."""
