"""The one scope rule (petitions.scope): reach by bureau and role, Art. 30 with normalised
accused parties and departments, the department claim in tokens and in the minting CLI."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from petitions.bureaus import BureauConfig, load_config
from petitions.identity import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    AuthenticationError,
    ForbiddenError,
    LocalIssuer,
    Principal,
    Role,
    StaticJwks,
    TokenVerifier,
)
from petitions.identity.__main__ import main as identity_cli
from petitions.scope import CaseFacts, ensure_acts_for, normalise_party, reach, sees

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy/config/bureaus.demo.toml"
CONFIG: BureauConfig = load_config(DEMO)

# Received at sub-bureau 330102, about it, handled there.
LOCAL = CaseFacts(bureau="330102", sub_bureau="330102", unit="330102")
# Received by the city bureau about 330103, handled by the city's public-order department.
CITY_DEPT = CaseFacts(bureau="3301", sub_bureau="330103", unit="zhian")
# Received at 330104 about 330104, handed to 330105 to handle.
HANDED_ON = CaseFacts(bureau="330104", sub_bureau="330104", unit="330105")


def who(role: str, bureau: str, user: str = "u1", department: str | None = None) -> Principal:
    return Principal(user=user, role=Role(role), bureau=bureau, department=department)


@pytest.mark.parametrize(
    ("principal", "facts", "expected"),
    [
        (who("sub_bureau_head", "330102"), LOCAL, True),
        (who("sub_bureau_head", "330103"), LOCAL, False),
        (who("handler", "330102"), LOCAL, True),
        (who("registrar", "330103"), CITY_DEPT, True),  # attributed to it
        (who("registrar", "330102"), CITY_DEPT, False),
        (who("handler", "330105"), HANDED_ON, True),  # its unit handles it
        (who("handler", "330104"), HANDED_ON, True),  # it received it
        (who("petition_office", "3301"), LOCAL, True),  # the city oversees every bureau
        (who("auditor", "3301"), HANDED_ON, True),
        (who("auditor", "330103"), LOCAL, False),  # a sub-bureau's auditor: its own only
        # The city's handlers: the city's own cases (its departments' included), no others.
        (who("handler", "3301"), LOCAL, False),
        (who("handler", "3301"), CITY_DEPT, True),
        (who("handler", "3301"), HANDED_ON, False),
    ],
)
def test_reach_by_bureau_and_role(principal: Principal, facts: CaseFacts, expected: bool) -> None:
    assert sees(principal, CONFIG, facts) is expected


@pytest.mark.parametrize(
    "written", ["p330102007", " P330102007 ", "P330102007", "\u3000p330102007"]
)
def test_an_accused_officer_is_matched_normalised(written: str) -> None:
    accusation = CaseFacts(
        bureau="3301", sub_bureau="330102", unit="jijian", accused_officers=(written,)
    )
    for user in ("P330102007", "p330102007", " p330102007"):
        assert not sees(who("leader", "3301", user), CONFIG, accusation)
    assert sees(who("leader", "3301", "P330102008"), CONFIG, accusation)
    assert normalise_party(written) == "P330102007"


def test_an_accused_unit_is_hidden_from_all_its_staff_and_a_department_from_its_own() -> None:
    against_unit = CaseFacts(
        bureau="3301", sub_bureau="330103", unit="jijian", accused_units=(" 330103",)
    )
    for role in ("sub_bureau_head", "auditor", "handler", "petition_office"):
        assert not sees(who(role, "330103"), CONFIG, against_unit)
    against_dept = CaseFacts(
        bureau="3301", sub_bureau="330102", unit="jijian", accused_units=("ZHIAN",)
    )
    assert not sees(who("leader", "3301", department="zhian"), CONFIG, against_dept)
    assert not sees(who("auditor", "3301", department="zhian"), CONFIG, against_dept)
    assert sees(who("leader", "3301", department="xingzhen"), CONFIG, against_dept)
    assert sees(who("leader", "3301"), CONFIG, against_dept)


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (who("auditor", "9999"), "bureau_unknown"),
        (who("leader", "3301", department="nosuch"), "department_unknown"),
        (who("handler", "330102", department="zhian"), "department_not_city"),
    ],
)
def test_a_token_the_configuration_cannot_place_is_refused(principal: Principal, code: str) -> None:
    with pytest.raises(ForbiddenError) as refused:
        reach(principal, CONFIG)
    assert refused.value.code == code
    assert " / " in refused.value.message  # 中文 / English


def test_acting_for_a_bureau_follows_the_same_reach() -> None:
    ensure_acts_for(who("registrar", "3301"), CONFIG, "330102")
    ensure_acts_for(who("handler", "330102"), CONFIG, "330102")
    for principal, bureau in [
        (who("registrar", "330102"), "330103"),
        (who("handler", "3301"), "330102"),
        (who("auditor", "9999"), "330102"),
    ]:
        with pytest.raises(ForbiddenError):
            ensure_acts_for(principal, CONFIG, bureau)


# -- the department claim --------------------------------------------------------------------


def test_a_department_claim_reaches_the_principal(tmp_path: Path) -> None:
    issuer = LocalIssuer(tmp_path / "k.pem", create=True)
    verifier = TokenVerifier(DEV_ISSUER, DEV_AUDIENCE, StaticJwks(issuer.jwks()))
    token = issuer.mint("u9", Role.HANDLER, "3301", department="zhian")
    assert verifier.verify(token).department == "zhian"
    assert verifier.verify(issuer.mint("u9", Role.HANDLER, "3301")).department is None
    with pytest.raises(ValueError, match="department"):
        issuer.mint("u9", Role.HANDLER, "3301", department="治安 支队")
    # A forged-looking claim (not a code) is refused, not silently dropped: dropping it would
    # show the user an accusation against their own department.
    claims = jwt.decode(token, options={"verify_signature": False}) | {"department": ["zhian"]}
    bad = jwt.encode(claims, issuer.private_key, algorithm="ES256", headers={"kid": issuer.kid})
    with pytest.raises(AuthenticationError):
        verifier.verify(bad)


def test_the_minting_cli_checks_the_department_against_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(tmp_path / "k.pem")
    base = ["mint", "--key", key, "--create", "--user", "u9", "--role", "handler"]
    assert (
        identity_cli([*base, "--bureau", "3301", "--department", "zhian", "--config", str(DEMO)])
        == 0
    )
    token = capsys.readouterr().out.strip()
    assert jwt.decode(token, options={"verify_signature": False})["department"] == "zhian"
    for extra in (
        ["--bureau", "3301", "--department", "nosuch", "--config", str(DEMO)],
        ["--bureau", "330102", "--department", "zhian", "--config", str(DEMO)],
    ):
        assert identity_cli([*base, *extra]) == 1
        assert "department" in capsys.readouterr().err
