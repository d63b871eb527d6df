"""The demo history `make up` loads is planned before anything is sent: its acts must be ones
the APIs accept, or the load stops half-way (as it did when a leader's team named the very
sub-bureau an accusation accused: Art. 30 refuses that)."""

from __future__ import annotations

from datetime import date

from devstack.demo import Demo
from petitions.bureaus import load_config

from tests.conftest import ROOT


def test_no_team_includes_a_unit_the_accusation_names() -> None:
    config = load_config(ROOT / "deploy/config/bureaus.demo.toml")
    demo = Demo(
        "http://intake.invalid",
        "http://assignment.invalid",
        lambda user, role, bureau: "",
        [s.code for s in config.sub_bureaus],
        today=date(2026, 11, 4),
        say=lambda _: None,
    )
    plans = demo.plan([s.code for s in config.sub_bureaus])
    owned = [
        (plan.body, body)
        for plan in plans
        for _, name, body in plan.acts
        if name == "take_ownership"
    ]
    accusations = [(case, body) for case, body in owned if case.get("accused_units")]
    assert accusations, "the demo plans leader-owned accusations: the check below must bite"
    for case, body in accusations:
        assert not set(body["team"]) & set(case["accused_units"]), (case, body)
