"""The assignment API on real PostgreSQL and NATS: every transition, every kind of refusal (409
with the state and the allowed commands, 403 with the roles needed, 409 with the current version,
422, 404), the import role's occurred_at, routing and the lists.

Cases come the real way: registered at intake, published by the relay, taken up from NATS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from petitions.bureaus import WorkCalendar, load_config, load_work_calendar
from petitions.eventstore import EventStore, RecordedEvent

from tests.conftest import Clock, Token
from tests.integration.test_intake_registration import ago, visit
from tests.support.assignment import Who, command, wait_taken_up
from tests.support.events import resident_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR: WorkCalendar = load_work_calendar(load_config(ROOT / "deploy/config/bureaus.demo.toml"))


OFFICE: Who = {"role": "petition_office", "bureau": "3301", "user": "office-01"}
HANDLER: Who = {"role": "handler", "bureau": "330102", "user": "王警官"}
HEAD: Who = {"role": "sub_bureau_head", "bureau": "330102", "user": "head-330102"}
LEADER: Who = {"role": "leader", "bureau": "3301", "user": "L01"}
REPLY = {"outcome": "explain", "legal_basis": "《信访工作条例》第三十二条", "summary": "解释说明"}
DECISION = {"decision": "upheld", "outcome": "explain", "summary": "维持原处理意见"}


# -- helpers shared by the assignment integration tests ---------------------------------------


def submission(n: int, **changes: Any) -> dict[str, Any]:
    """A visit by petitioner number ``n`` (a different person each: a new case each)."""
    body = visit(**changes)
    body["petitioners"] = [
        {"name": f"信访人{n}", "resident_id": resident_id(f"33010219800101{n:03d}")}
    ]
    return body


async def register(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    n: int,
    *,
    registrar: tuple[str, str] = ("330102", "clerk-01"),
    role: str = "registrar",
    **changes: Any,
) -> dict[str, Any]:
    """Register at intake and wait until assignment has taken the case up through NATS."""
    bureau, user = registrar
    response = await client.post(
        "/api/v1/submissions",
        json=submission(n, **changes),
        headers=auth(role, bureau, user),
    )
    assert response.status_code == 201, response.text
    return await wait_taken_up(assignment, auth, response.json()["case_id"])


async def stream(store: EventStore, case_id: str) -> list[RecordedEvent[Any]]:
    return await store.read_stream(f"case-{case_id}", reveal=False)


async def event_types(store: EventStore, case_id: str) -> list[str]:
    return [e.event_type for e in await stream(store, case_id)]


def today(clock: Clock) -> str:
    return clock.now.astimezone(SHANGHAI).date().isoformat()


async def refused(
    http: httpx.AsyncClient,
    auth: Token,
    case_id: str,
    name: str,
    body: dict[str, Any] | None = None,
    *,
    status: int,
    who: Who = OFFICE,
) -> dict[str, Any]:
    """A command that must be refused with ``status`` and write nothing."""
    before = (await get(http, auth, case_id))["version"]
    answer = await command(http, auth, case_id, name, body, status=status, **who)
    assert (await get(http, auth, case_id))["version"] == before, "a refusal writes nothing"
    return answer


async def get(http: httpx.AsyncClient, auth: Token, case_id: str) -> dict[str, Any]:
    response = await http.get(
        f"/api/v1/cases/{case_id}", headers=auth("petition_office", "3301", "office-01")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- transitions ------------------------------------------------------------------------------


async def test_taking_up_opens_the_acceptance_clock_for_the_first_receiver(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await register(client, assignment, auth, 1)
    received = datetime.fromisoformat(case["received_on"]).date()
    assert case["state"] == "awaiting_acceptance"
    assert case["acceptance_due"] == CALENDAR.add_days_deadline(received, 15).isoformat()
    assert case["running_deadline"] == "acceptance"
    assert (case["unit"], case["officer"], case["first_receiver"]) == ("330102", "王警官", "王警官")
    assert set(case["allowed_commands"]) == {
        "accept",
        "decline",
        "forward",
        "divert",
        "assign",
        "take_ownership",
        "congress_supervise",
    }  # fmt: skip  (no referral: no objection; no People's Congress case: no report)
    recorded = await stream(store, case["case_id"])
    assert [e.event_type for e in recorded] == [
        "intake.CaseRegistered",
        "intake.SubmissionReceived",
        "assignment.WorkflowOpened",
        "assignment.CaseAssigned",
    ]
    assert recorded[2].service == "assignment"
    assert recorded[2].causation_id is not None  # caused by intake's event, through NATS


async def test_acceptance_handling_hearing_extension_and_the_reply(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    # Accepted on Thursday 2026-07-30. A 3-day hearing in handling adds nothing (Art. 34: the
    # handling period has no pause); under the former rule the period's 63rd day, National Day,
    # would have moved the deadline to 8 October.
    clock.now = datetime(2026, 7, 30, 2, tzinfo=UTC)
    case = await register(client, assignment, auth, 2, received_at="2026-07-30T09:00:00+08:00")
    case_id = case["case_id"]
    done = await command(assignment, auth, case_id, "accept", {"notice": "予以受理"})
    accepted = datetime.fromisoformat(done["case"]["accepted_on"]).date()
    assert accepted == date(2026, 7, 30)
    assert done["case"]["handling_due"] == "2026-09-28"  # 60 days: a Monday

    await command(assignment, auth, case_id, "assign", {"unit": "330103", "reason": "属地"})
    done = await command(
        assignment,
        auth,
        case_id,
        "assign",
        {"unit": "330102", "officer": "王警官", "reason": "回原单位"},
    )
    assert (done["case"]["unit"], done["case"]["officer"]) == ("330102", "王警官")
    done = await command(
        assignment,
        auth,
        case_id,
        "take_ownership",
        {
            "leader_id": "L01",
            "team": ["信访科", "法制支队"],
            "plan": "一案一策",
            "needs_party_committee": True,
        },
        **LEADER,
    )
    assert done["case"]["leader_id"] == "L01"
    done = await command(assignment, auth, case_id, "record_progress", {"note": "约谈"}, **HANDLER)
    assert done["case"]["progress_weeks"] == [
        "{}-W{:02d}".format(*clock.now.astimezone(SHANGHAI).date().isocalendar()[:2])
    ]

    done = await command(assignment, auth, case_id, "start_hearing", {"reason": "听证"}, **HANDLER)
    # The handling deadline keeps running through the hearing.
    assert (done["case"]["state"], done["case"]["running_deadline"]) == ("hearing", "handling")
    assert done["case"]["handling_due"] == "2026-09-28"
    clock.advance(days=3)
    done = await command(assignment, auth, case_id, "end_hearing", {}, **HANDLER)
    assert done["case"]["state"] == "handling"
    assert done["case"]["handling_due"] == "2026-09-28"  # still Monday 28 September

    done = await command(
        assignment, auth, case_id, "grant_extension", {"days": 30, "reason": "情况复杂"}, **HEAD
    )
    assert done["case"]["extended"] is True
    # Art. 34: the extension lengthens the period itself, 60 + 30 days from acceptance: a
    # working Wednesday, 28 October. (With the hearing's 3 days, the former rule, 93 days:
    # Saturday 31 October, moved to Monday 2 November.)
    assert done["case"]["handling_due"] == "2026-10-28"
    assert "grant_extension" not in done["case"]["allowed_commands"]

    await command(assignment, auth, case_id, "report_completion", {"summary": "已办结"}, **HANDLER)
    done = await command(assignment, auth, case_id, "send_back", {"reason": "证据不全"})
    assert done["case"]["state"] == "handling"
    await command(assignment, auth, case_id, "report_completion", {"summary": "补证"}, **HANDLER)
    done = await command(assignment, auth, case_id, "accept_completion", {"note": "同意"})
    assert done["case"]["state"] == "completion_accepted"
    clock.advance(days=1)
    done = await command(assignment, auth, case_id, "reply", REPLY, **HANDLER)
    assert done["case"]["state"] == "replied"
    assert done["case"]["outcome"] == "explain"
    assert done["case"]["replied_on"] == today(clock)

    recorded = await stream(store, case_id)
    (reply,) = [e for e in recorded if e.event_type == "assignment.ReplyIssued"]
    assert reply.data.on_time is True
    assert reply.actor == "王警官"
    (extension,) = [e for e in recorded if e.event_type == "assignment.ExtensionGranted"]
    assert extension.data.approved_by == "head-330102"
    assert extension.data.days == 30


async def test_review_and_re_review_end_the_matter(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, clock: Clock
) -> None:
    case_id = (await register(client, assignment, auth, 3))["case_id"]
    for name, body, who in [
        ("accept", {}, OFFICE),
        ("report_completion", {"summary": "办结"}, HANDLER),
        ("accept_completion", {}, OFFICE),
        ("reply", REPLY, HANDLER),
        ("rate_satisfaction", {"rating": "dissatisfied"}, OFFICE),
        ("record_delivery", {"method": "in_person"}, HANDLER),
    ]:
        await command(assignment, auth, case_id, name, body, **who)
    clock.advance(days=20)
    done = await command(assignment, auth, case_id, "request_review", {})
    assert done["case"]["state"] == "under_review"
    assert done["case"]["running_deadline"] == "review"
    done = await command(assignment, auth, case_id, "decide_review", DECISION, **LEADER)
    assert done["case"]["state"] == "reviewed"
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    done = await command(assignment, auth, case_id, "request_re_review", {"organ": "省公安厅"})
    assert done["case"]["running_deadline"] == "re_review"
    done = await command(assignment, auth, case_id, "start_hearing", {"reason": "复核听证"})
    assert done["case"]["state"] == "hearing"
    done = await command(assignment, auth, case_id, "end_hearing", {})
    assert done["case"]["state"] == "under_re_review"
    done = await command(assignment, auth, case_id, "decide_re_review", DECISION, **LEADER)
    assert done["case"]["state"] == "terminated"
    assert done["case"]["allowed_commands"] == []  # what the leader may give: nothing
    terminated = await get(assignment, auth, case_id)
    assert terminated["allowed_commands"] == ["rate_satisfaction", "record_delivery"]
    assert terminated["awaiting_delivery_of"] == "re_review_decision"
    await command(assignment, auth, case_id, "record_delivery", {"method": "in_person"})
    assert (await get(assignment, auth, case_id))["allowed_commands"] == ["rate_satisfaction"]


async def test_delivery_starts_the_review_window_and_is_checked_at_the_edge(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, clock: Clock
) -> None:
    # Reply on Fri 2026-09-25 (registered 2026-08-03, before the clock), received by post on
    # Mon 2026-09-28: the window ends 30 days on, Wed 2026-10-28 (National Day 10-01..10-07
    # lies inside it; counted from the reply it would have been Mon 10-26).
    clock.now = datetime(2026, 8, 3, 10, 0, tzinfo=SHANGHAI)
    received = "2026-08-03T09:00:00+08:00"
    case_id = (await register(client, assignment, auth, 77, received_at=received))["case_id"]
    for name, body, who in [
        ("accept", {}, OFFICE),
        ("report_completion", {"summary": "办结"}, HANDLER),
        ("accept_completion", {}, OFFICE),
    ]:
        await command(assignment, auth, case_id, name, body, **who)
    clock.now = datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI)
    replied = (await command(assignment, auth, case_id, "reply", REPLY, **HANDLER))["case"]
    assert (replied["review_request_until"], replied["awaiting_delivery"]) == (None, True)
    assert replied["awaiting_delivery_of"] == "reply"
    assert "request_review" not in replied["allowed_commands"]
    early = await refused(assignment, auth, case_id, "request_review", {}, status=409)
    assert early["error"] == "awaiting_delivery"
    assert "尚未登记送达" in early["message"]

    clock.now = datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    # Post without a tracking number: 422 naming the field, nothing written.
    bad = await refused(
        assignment,
        auth,
        case_id,
        "record_delivery",
        {"method": "post", "delivered_on": "2026-09-28"},
        status=422,
        who=HANDLER,
    )
    assert "tracking_number" in str(bad)
    assert (await get(assignment, auth, case_id))["version"] == replied["version"]
    future = await refused(
        assignment,
        auth,
        case_id,
        "record_delivery",
        {"method": "in_person", "delivered_on": "2026-09-30"},
        status=422,
        who=HANDLER,
    )
    assert future["error"] == "delivered_in_future"
    done = await command(
        assignment,
        auth,
        case_id,
        "record_delivery",
        {
            "method": "post",
            "tracking_number": "1187654321012",
            "delivered_on": "2026-09-28",
            "receipt": "邮政签收回执",
        },
        **HANDLER,
    )
    assert done["events"] == ["assignment.DeliveryRecorded"]
    case = done["case"]
    assert (case["reply_delivered_on"], case["review_request_until"]) == (
        "2026-09-28",
        "2026-10-28",
    )
    assert case["awaiting_delivery"] is False
    assert "request_review" in (await get(assignment, auth, case_id))["allowed_commands"]
    clock.now = datetime(2026, 10, 29, 10, 0, tzinfo=SHANGHAI)
    late = await refused(assignment, auth, case_id, "request_review", {}, status=409)
    assert late["error"] == "request_window_closed"


@pytest.mark.parametrize(
    ("name", "body", "state"),
    [
        ("decline", {"reason": "不属于公安机关职责范围"}, "declined"),
        ("forward", {"organ": "市人力社保局", "reason": "属劳动争议"}, "forwarded"),
        ("divert", {"procedure": "行政诉讼", "reason": "已进入诉讼程序"}, "diverted"),
    ],
)
async def test_the_acceptance_decision_may_close_the_case(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    name: str,
    body: dict[str, Any],
    state: str,
) -> None:
    case_id = (await register(client, assignment, auth, 4))["case_id"]
    done = await command(assignment, auth, case_id, name, body, **HEAD)
    assert done["case"]["state"] == state
    assert done["case"]["running_deadline"] is None
    error = await refused(assignment, auth, case_id, "accept", {}, status=409)
    assert (error["state"], error["allowed"]) == (state, [])


async def test_a_referral_may_be_objected_to_within_5_working_days(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, clock: Clock
) -> None:
    referral = await register(
        client,
        assignment,
        auth,
        5,
        channel="higher_referral",
        document_number="浙公信转〔2026〕12号",
    )
    received = datetime.fromisoformat(referral["received_on"]).date()
    assert referral["referral"] is True
    assert referral["objection_due"] == CALENDAR.add_working_days(received, 5).isoformat()
    late = await register(
        client,
        assignment,
        auth,
        6,
        channel="congress_referral",
        document_number="临人大〔2026〕7号",
    )
    assert late["congress"] is True
    # The day after the window closes, for the second one only.
    closed = datetime.fromisoformat(late["objection_due"]).date() + timedelta(days=1)
    days = (closed - clock.now.astimezone(SHANGHAI).date()).days
    clock.advance(days=days)
    error = await refused(
        assignment, auth, late["case_id"], "object", {"reason": "不属本单位"}, status=409, who=HEAD
    )
    assert error["error"] == "objection_window_closed"
    clock.advance(days=-days)
    done = await command(
        assignment, auth, referral["case_id"], "object", {"reason": "不属本单位"}, **HEAD
    )
    assert done["case"]["state"] == "objected"
    plain = await register(client, assignment, auth, 7)
    error = await refused(
        assignment, auth, plain["case_id"], "object", {"reason": "x"}, status=409, who=HEAD
    )
    assert error["error"] == "not_a_referral"
    # A People's Congress referral takes its written report back.
    done = await command(
        assignment, auth, late["case_id"], "congress_report", {"report": "书面报告"}
    )
    assert done["events"] == ["assignment.CongressReportSent"]
    error = await refused(
        assignment, auth, plain["case_id"], "congress_report", {"report": "x"}, status=409
    )
    assert error["error"] == "not_a_congress_case"


# -- refusals ---------------------------------------------------------------------------------


async def test_a_command_the_state_does_not_allow_is_409_naming_state_and_allowed(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case_id = (await register(client, assignment, auth, 8))["case_id"]
    error = await refused(assignment, auth, case_id, "reply", REPLY, status=409)
    assert error["error"] == "not_allowed_in_state"
    assert error["state"] == "awaiting_acceptance"
    assert "accept" in error["allowed"]
    assert "reply" not in error["allowed"]
    # The list holds what the caller's role may give: a handler may do nothing here yet.
    handler = await refused(assignment, auth, case_id, "reply", REPLY, status=409, who=HANDLER)
    assert handler["allowed"] == []
    assert "待受理" in error["message"]
    assert "awaiting_acceptance" in error["message"]
    await command(assignment, auth, case_id, "accept", {})
    for name, body in [
        ("accept", {}),
        ("decline", {"reason": "x"}),
        ("accept_completion", {}),
        ("end_hearing", {}),
        ("request_review", {}),
        ("decide_re_review", DECISION),
    ]:
        error = await refused(assignment, auth, case_id, name, body, status=409)
        assert error["state"] == "handling", name
        assert set(error["allowed"]) == {  # what the petition office may give now
            "assign", "take_ownership", "record_progress", "start_hearing",
            "congress_supervise",
        }  # fmt: skip


async def test_roles_are_403_naming_the_roles_needed(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case_id = (await register(client, assignment, auth, 9))["case_id"]
    # Only the petition office assigns.
    for who in (HANDLER, HEAD, LEADER):
        error = await refused(
            assignment,
            auth,
            case_id,
            "assign",
            {"unit": "330103", "reason": "x"},
            status=403,
            who=who,
        )
        assert error["error"] == "role_forbidden"
        assert error["required_roles"] == ["petition_office"]
        assert "信访科" in error["message"]
    await command(assignment, auth, case_id, "accept", {})
    # Only a unit head (or a bureau leader) approves the extension.
    registrar: Who = {"role": "registrar", "bureau": "330102", "user": "clerk-01"}
    for who in (OFFICE, HANDLER, registrar):
        error = await refused(
            assignment,
            auth,
            case_id,
            "grant_extension",
            {"days": 10, "reason": "x"},
            status=403,
            who=who,
        )
        assert set(error["required_roles"]) == {"sub_bureau_head", "leader"}
    # Auditors read, never act.
    auditor: Who = {"role": "auditor", "bureau": "3301", "user": "audit-01"}
    await refused(
        assignment, auth, case_id, "record_progress", {"note": "x"}, status=403, who=auditor
    )
    response = await assignment.get(
        f"/api/v1/cases/{case_id}", headers=auth("auditor", "3301", "audit-01")
    )
    assert response.status_code == 200
    assert response.json()["allowed_commands"] == []
    # The extension is granted once.
    await command(
        assignment, auth, case_id, "grant_extension", {"days": 10, "reason": "复杂"}, **HEAD
    )
    error = await refused(
        assignment,
        auth,
        case_id,
        "grant_extension",
        {"days": 5, "reason": "再延"},
        status=409,
        who=HEAD,
    )
    assert error["error"] == "extension_already_granted"


async def test_a_stale_expected_version_is_409_with_the_current_version(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await register(client, assignment, auth, 10)
    case_id, seen = case["case_id"], case["version"]
    await command(
        assignment, auth, case_id, "record_progress", {"note": "x"}, status=409, **HANDLER
    )
    await command(assignment, auth, case_id, "accept", {"expected_version": seen})
    error = await refused(
        assignment,
        auth,
        case_id,
        "record_progress",
        {"note": "旧页面", "expected_version": seen},
        status=409,
        who=HANDLER,
    )
    assert error["error"] == "stale_version"
    assert error["current_version"] == seen + 1
    assert "version" in error["message"]
    assert "版本" in error["message"]
    assert len(await stream(store, case_id)) == seen + 1


async def test_bad_content_is_422_and_unknown_or_foreign_cases_404(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case_id = (await register(client, assignment, auth, 11))["case_id"]
    await command(assignment, auth, case_id, "accept", {})
    error = await refused(
        assignment,
        auth,
        case_id,
        "grant_extension",
        {"days": 31, "reason": "x"},
        status=422,
        who=HEAD,
    )
    assert "days" in str(error)
    error = await refused(
        assignment, auth, case_id, "assign", {"unit": "nosuchunit", "reason": "x"}, status=422
    )
    assert error["error"] == "unknown_unit"
    await refused(assignment, auth, case_id, "accept", {"surprise": 1}, status=422)
    missing = "00000000-0000-4000-8000-000000000000"
    await command(assignment, auth, missing, "accept", {}, status=404)
    assert (
        await assignment.get(f"/api/v1/cases/{missing}", headers=auth("petition_office", "3301"))
    ).status_code == 404
    # Another sub-bureau's case is out of scope: 404, as if it did not exist.
    other: Who = {"role": "sub_bureau_head", "bureau": "330103", "user": "head-330103"}
    answer = await command(
        assignment, auth, case_id, "record_progress", {"note": "x"}, status=404, **other
    )
    assert answer["error"] == "case_not_found"
    assert (
        await assignment.get(f"/api/v1/cases/{case_id}", headers=auth(**other))
    ).status_code == 404
    assert (await assignment.get(f"/api/v1/cases/{case_id}")).status_code == 401
    # A token for a unit the configuration does not know is refused (and is no server error),
    # by the one scope rule every service applies.
    unknown = auth("petition_office", "9999", "stranger")
    got = await assignment.get(f"/api/v1/cases/{case_id}", headers=unknown)
    assert (got.status_code, got.json()["error"]) == (403, "bureau_unknown")
    listed = await assignment.get("/api/v1/cases", headers=unknown)
    assert (listed.status_code, listed.json()["error"]) == (403, "bureau_unknown")


# -- occurred_at: only the import role may date an act in the past ----------------------------


async def test_only_the_import_role_gives_a_past_occurred_at(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    # A historical case, imported at intake: received 40 days ago.
    received_at = clock.now - timedelta(days=40)
    case = await register(
        client,
        assignment,
        auth,
        12,
        registrar=("3301", "import-01"),
        role="importer",
        received_at=received_at.astimezone(SHANGHAI).isoformat(),
    )
    case_id = case["case_id"]
    received = received_at.astimezone(SHANGHAI).date()
    assert case["received_on"] == received.isoformat()
    opened = [e for e in await stream(store, case_id) if e.service == "assignment"]
    assert opened
    assert all(e.occurred_at == received_at for e in opened)

    past = (received_at + timedelta(days=5)).isoformat()
    error = await refused(assignment, auth, case_id, "accept", {"occurred_at": past}, status=403)
    assert error["error"] == "occurred_at_forbidden"
    assert "import" in error["message"]
    assert "导入" in error["message"]
    importer: Who = {"role": "importer", "bureau": "3301", "user": "import-01"}
    future = (clock.now + timedelta(days=2)).isoformat()
    error = await refused(
        assignment, auth, case_id, "accept", {"occurred_at": future}, status=422, who=importer
    )
    assert error["error"] == "occurred_in_future"
    before = (received_at - timedelta(days=3)).isoformat()
    error = await refused(
        assignment, auth, case_id, "accept", {"occurred_at": before}, status=422, who=importer
    )
    assert error["error"] == "before_receipt"
    await refused(
        assignment,
        auth,
        case_id,
        "accept",
        {"occurred_at": "2026-03-01T09:00:00"},  # no time zone
        status=422,
        who=importer,
    )

    done = await command(assignment, auth, case_id, "accept", {"occurred_at": past}, **importer)
    accepted_on = datetime.fromisoformat(past).astimezone(SHANGHAI).date()
    assert done["case"]["accepted_on"] == accepted_on.isoformat()
    assert done["case"]["handling_due"] == CALENDAR.add_days_deadline(accepted_on, 60).isoformat()
    last = (await stream(store, case_id))[-1]
    assert last.event_type == "assignment.CaseAccepted"
    assert last.occurred_at == datetime.fromisoformat(past)
    assert last.recorded_at > last.occurred_at  # the recorded time is always the real one
    # The clock's own time, as live clients send it, is fine for anyone.
    now = clock.now.isoformat()
    done = await command(
        assignment,
        auth,
        case_id,
        "record_progress",
        {"note": "现场", "occurred_at": now},
        **HANDLER,
    )
    assert done["events"] == ["assignment.ProgressRecorded"]


async def test_the_sweep_endpoint_is_for_admins(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, clock: Clock
) -> None:
    case = await register(client, assignment, auth, 13)
    due = datetime.fromisoformat(case["acceptance_due"]).date()
    admin = auth("admin", "3301", "admin-01")
    # A day that has not come cannot be swept: its notices would be final.
    early = await assignment.post("/api/v1/sweep", json={"today": due.isoformat()}, headers=admin)
    assert early.status_code == 422, early.text
    assert early.json()["error"] == "sweep_in_future"
    clock.now = datetime(due.year, due.month, due.day, 9, tzinfo=SHANGHAI)
    response = await assignment.post(
        "/api/v1/sweep", json={"today": due.isoformat()}, headers=auth("petition_office", "3301")
    )
    assert response.status_code == 403
    response = await assignment.post(
        "/api/v1/sweep", json={"today": due.isoformat()}, headers=auth("admin", "3301", "admin-01")
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"cases": 1, "events": 1}


# -- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "unit", "officer"),
    [
        ("JK01", "jijian", None),  # 民警违纪违法 -> 纪检监察室
        ("JK02", "ducha", None),  # 辅警违纪 -> 督察支队
        ("SQ0102", "fazhi", None),  # 治安处罚异议 -> 法制支队
        ("SQ0101", "330102", "王警官"),  # no rule: 谁接待谁处理
    ],
)
async def test_routing_rules_choose_the_first_unit(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    category: str,
    unit: str,
    officer: str | None,
) -> None:
    case = await register(client, assignment, auth, 14, category=category)
    assert (case["unit"], case["officer"]) == (unit, officer)
    (assigned,) = [
        e for e in await stream(store, case["case_id"]) if e.event_type.endswith("Assigned")
    ]
    assert (assigned.data.rule is None) == (officer is not None)
    # The city's petition office sees it; so does the sub-bureau it concerns.
    assert (await get(assignment, auth, case["case_id"]))["unit"] == unit


# -- lists ------------------------------------------------------------------------------------


async def test_lists_by_state_unit_and_leader_ownership(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    first = await register(client, assignment, auth, 15)
    second = await register(client, assignment, auth, 16, category="SQ0102")
    other = await register(
        client,
        assignment,
        auth,
        17,
        registrar=("330103", "clerk-03"),
        receiving_bureau="330103",
        receiving_officer="李警官",
        sub_bureau="330103",
    )
    await command(assignment, auth, first["case_id"], "accept", {})
    await command(
        assignment,
        auth,
        first["case_id"],
        "take_ownership",
        {"leader_id": "L01", "team": ["信访科"], "plan": "包案"},
        **LEADER,
    )
    office = auth("petition_office", "3301", "office-01")

    async def ids(headers: dict[str, str], path: str = "/api/v1/cases", **params: Any) -> set[str]:
        response = await assignment.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {row["case_id"] for row in response.json()}

    everyone = {first["case_id"], second["case_id"], other["case_id"]}
    assert await ids(office) == everyone
    assert await ids(office, state="handling") == {first["case_id"]}
    assert await ids(office, unit="fazhi") == {second["case_id"]}
    assert await ids(office, "/api/v1/cases/leader-owned") == {first["case_id"]}
    assert await ids(office, leader_owned="false") == everyone - {first["case_id"]}
    sub = auth("sub_bureau_head", "330103", "head-330103")
    assert await ids(sub) == {other["case_id"]}
    due = min(
        datetime.fromisoformat(c["acceptance_due"]).date() for c in (second, other)
    ) + timedelta(days=1)
    assert await ids(office, overdue_on=due.isoformat()) >= {second["case_id"], other["case_id"]}
    assert ago(hours=0)  # the registrations above are all recent
