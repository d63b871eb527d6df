"""The NATS identities are defined once (petitions.messaging.security); the compose config is
its rendering, not a second copy to drift."""

from __future__ import annotations

from petitions.messaging.security import USERS, password_variable, permissions, render_config

from tests.conftest import ROOT


def test_compose_auth_config_is_the_rendering() -> None:
    assert (ROOT / "deploy/nats/auth.conf").read_text() == render_config()


def test_no_anonymous_user_and_no_secret_in_the_repository() -> None:
    text = render_config()
    settings = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("no_auth_user" in line for line in settings)
    for user in USERS:
        assert f"password: ${password_variable(user)}," in text, user


def test_only_the_relay_may_publish_events() -> None:
    publishers = [
        user
        for user in USERS
        if "petitions.events.>" in permissions(user)["publish"].get("allow", [])
    ]
    assert publishers == ["petitions-relay"]
