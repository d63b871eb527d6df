"""The one refusal type: a request the services will not carry out, with nothing written.

Every service raises it (or a subclass naming its area: intake's ``Refused``, assignment's
``WorkflowError``, the identity errors) with the same arguments, and every service answers it
the same way (:func:`petitions.http.install_refusals`): ``{"error": code, "message": message,
**details}`` with ``status``.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """``code``: stable, for programs; ``message``: bilingual (中文 / English), for people,
    saying what is wrong and what to do; ``status``: the HTTP status (the class's unless
    given); ``details``: further fields of the answer (the state, the current version ...)."""

    status: int = 409

    def __init__(self, code: str, message: str, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details

    def body(self) -> dict[str, Any]:
        """The answer's JSON body."""
        return {"error": self.code, "message": self.message, **self.details}
