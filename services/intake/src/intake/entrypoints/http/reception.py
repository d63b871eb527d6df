"""Intake's HTTP API, leader reception days: schedule sessions, record them held or missed,
record the leaders' instructions and their answers."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import CODE_MAX, Code, ShortText, Text
from petitions.messages.reception import MissedReason
from pydantic import BaseModel, ConfigDict, Field

from intake.application.reception import Reception
from intake.application.register import InvalidCommand


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bureau: Code = Field(min_length=1, description="单位代码 bureau code")
    first: date = Field(description="起始日 first day")
    last: date = Field(description="结束日 last day")
    place: ShortText = Field(min_length=1, description="接访地点 place")


class HeldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_by: ShortText = Field(min_length=1, description="实际接访领导 the leader who received")
    note: Text = Field(default="", description="备注 note")
    accompanied_by: list[Code] = Field(
        default_factory=list,
        max_length=24,
        description="陪同接访的分县局（其局长到场）sub-bureaus whose heads accompanied the city's "
        "chief (city bureau's sessions only)",
    )


class MissedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason_code: MissedReason | None = Field(
        default=None,
        description="缺席原因（统计口径）why it was missed, as the figures count it: "
        + ", ".join(f"{r.value} {r.zh}" for r in MissedReason)
        + "; may be left out only when `reason` is exactly one of these names",
    )
    reason: Text = Field(
        default="", description="缺席说明（加密保存）any explanation; sealed, shown masked"
    )


class InstructionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: uuid.UUID
    instruction: Text = Field(min_length=1, description="批示 instruction")
    needs_party_committee: bool = False
    answering_unit: Code | None = Field(
        default=None,
        description="须答复的单位（单位或市局部门代码，须在本案范围内）the unit that must answer; "
        "none: the case's handling unit, else its sub-bureau",
    )
    due_on: date | None = Field(
        default=None,
        description="答复期限（含当日）answer by this day; none: the configured number of working "
        "days after the session's day",
    )


class InstructionOut(BaseModel):
    instruction_id: uuid.UUID
    case_id: uuid.UUID
    answering_unit: str
    due_on: date
    due_set_by: Literal["leader", "default"]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: Text = Field(min_length=1, description="答复内容（加密保存）the answer; sealed")


class AnswerOut(BaseModel):
    instruction_id: uuid.UUID
    unit: str
    answered_on: date
    on_time: bool


def router(auth: Authenticator, reception: Callable[[], Reception]) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    reception_roles = auth.require(Role.PETITION_OFFICE, Role.LEADER, Role.ADMIN)

    @api.post(
        "/reception/schedule",
        status_code=201,
        tags=["领导接访 reception days"],
        summary="排定接访日 Schedule reception sessions for a period from the duty roster",
    )
    async def schedule(
        body: ScheduleIn, principal: Annotated[Principal, Depends(reception_roles)]
    ) -> Any:
        return await reception().schedule(principal, body.bureau, body.first, body.last, body.place)

    @api.get(
        "/reception/sessions",
        tags=["领导接访 reception days"],
        summary="接访场次 Sessions of a bureau in a period, held or missed",
    )
    async def sessions(
        principal: Annotated[Principal, Depends(auth)],
        bureau: Annotated[str, Query(min_length=1, max_length=CODE_MAX)],
        first: date,
        last: date,
    ) -> Any:
        return await reception().list(principal, bureau, first, last)

    @api.post(
        "/reception/sessions/{session_id}/held",
        status_code=204,
        tags=["领导接访 reception days"],
        summary="记为已接访 Record the session as held",
    )
    async def held(
        session_id: uuid.UUID,
        body: HeldIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> None:
        await reception().held(
            principal, session_id, body.held_by, body.note, tuple(body.accompanied_by)
        )

    @api.post(
        "/reception/sessions/{session_id}/missed",
        status_code=204,
        tags=["领导接访 reception days"],
        summary="记为缺席并说明原因 Record the session as missed, with the reason",
    )
    async def missed(
        session_id: uuid.UUID,
        body: MissedIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> None:
        code, reason = body.reason_code, body.reason
        if code is None:
            # A client that knew no codes wrote the name itself: it is the code, not an
            # explanation. Anything else must say which code it counts as.
            code = MissedReason.named(reason)
            if code is None:
                raise InvalidCommand(
                    [
                        (
                            "reason_code",
                            "请选择缺席原因："
                            + "、".join(r.zh for r in MissedReason)
                            + " / choose why it was missed: "
                            + ", ".join(r.value for r in MissedReason),
                        )
                    ]
                )
            reason = ""
        await reception().missed(principal, session_id, code, reason)

    @api.post(
        "/reception/sessions/{session_id}/instructions",
        status_code=201,
        response_model=InstructionOut,
        tags=["领导接访 reception days"],
        summary="记录领导批示 Record the leader's instruction on a visit, who answers, by when",
    )
    async def instruct(
        session_id: uuid.UUID,
        body: InstructionIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> Any:
        return await reception().instruct(
            principal,
            session_id,
            body.case_id,
            body.instruction,
            body.needs_party_committee,
            answering_unit=body.answering_unit,
            due_on=body.due_on,
        )

    answering_roles = auth.require(
        Role.HANDLER, Role.SUB_BUREAU_HEAD, Role.LEADER, Role.PETITION_OFFICE
    )

    @api.post(
        "/cases/{case_id}/instructions/{instruction_id}/answer",
        status_code=201,
        response_model=AnswerOut,
        tags=["领导接访 reception days"],
        summary="答复领导批示 Answer a leader's instruction (the unit it names, or the petition "
        "office; once)",
    )
    async def answer_instruction(
        case_id: uuid.UUID,
        instruction_id: uuid.UUID,
        body: AnswerIn,
        principal: Annotated[Principal, Depends(answering_roles)],
    ) -> Any:
        return await reception().answer(principal, case_id, instruction_id, body.answer)

    return api
