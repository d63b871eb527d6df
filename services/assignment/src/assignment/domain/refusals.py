"""Refusals: a refused command writes nothing, and the caller is told why (the state and what it
allows, the role needed, the version it should have sent)."""

from __future__ import annotations

from petitions.refusals import Refusal


class WorkflowError(Refusal):
    """A command the workflow refuses (the one refusal type); ``status`` is the HTTP status it
    maps to, 409 unless a subclass says otherwise."""


class NotAllowed(WorkflowError):
    """Not in this state (409): names the state and the commands it allows."""


class Forbidden(WorkflowError):
    """Not for this caller's role or unit (403)."""

    status = 403


class Invalid(WorkflowError):
    """The command's content is wrong for this case (422)."""

    status = 422


class StaleVersion(WorkflowError):
    """The caller saw an older version of the case (409): the current one is in details."""
