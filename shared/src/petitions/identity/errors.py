"""What goes wrong when a caller is identified or checked; each error knows its HTTP status."""

from __future__ import annotations

from petitions.refusals import Refusal


class IdentityError(Refusal):
    """Base of the identity errors: a stable ``code`` for programs, a bilingual ``message``
    (中文 / English) for people, saying what is wrong and what to do."""

    status = 500


class AuthenticationError(IdentityError):
    """No token, or one that cannot be trusted (HTTP 401)."""

    status = 401


class ForbiddenError(IdentityError):
    """A trusted caller asking for something their role or bureau does not allow (HTTP 403)."""

    status = 403


class IdentityUnavailableError(IdentityError):
    """The issuer's keys cannot be fetched (HTTP 503). Not a 401: the caller's token may be
    perfectly good, and telling the client to sign in again would not help."""

    status = 503
