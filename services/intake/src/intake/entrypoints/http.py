"""Intake's HTTP API: register submissions; let a petitioner look up their case's status."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

import urllib.parse
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import JSONResponse
from petitions.http import install_refusals, install_validation_errors, invalid_response
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import CODE_MAX, MAX_OFFSET, Code, ShortText, Text
from petitions.messages.reception import MissedReason
from pydantic import BaseModel, ConfigDict, Field

from intake.application.attachments import Attachments, Upload, too_large
from intake.application.dossier import AUDIT_ROLES, Dossier
from intake.application.notices import KINDS, MEDIA_TYPE, Notices
from intake.application.receipt import Receipts
from intake.application.reception import Reception
from intake.application.reference import Document, Reference, ReferenceKind
from intake.application.register import InvalidCommand, Registrar
from intake.domain.commands import RegisterSubmission

AttachmentKind = Literal["scan", "photo", "audio", "document"]
REGISTERING_ROLES = (Role.REGISTRAR, Role.PETITION_OFFICE, Role.LEADER, Role.IMPORTER, Role.ADMIN)


class RegisteredOut(BaseModel):
    case_id: uuid.UUID
    case_number: str
    submission_id: uuid.UUID
    is_repeat: bool
    reason: str | None
    query_code: str | None
    similar_cases: list[str]


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


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_code: str | None = Field(
        default=None,
        min_length=6,
        max_length=20,
        pattern=r"^[A-Za-z0-9]+$",
        description="登记时给出的查询码 the query code registration returned (a repeat has none)",
    )
    submission_id: uuid.UUID | None = Field(
        default=None, description="哪一次信访（缺省为最近一次）which submission; the latest if none"
    )


class StatusOut(BaseModel):
    """What a petitioner may know: phases and dates, no names, nothing internal."""

    case_number: str
    status: str = Field(description="阶段 phase: received, handling, replied, under_review, ...")
    status_zh: str
    status_en: str
    submissions: int = Field(description="本事项的信访件次 submissions on this matter")
    received_on: date | None
    acceptance_due: date | None = Field(description="受理告知期限 (while awaiting it)")
    accepted: bool | None = Field(description="是否受理 accepted; null while undecided")
    accepted_on: date | None
    decided_on: date | None = Field(description="不予受理、转送等的决定日 when not accepted")
    handling_due: date | None = Field(description="办理期限 (extension included)")
    extended: bool
    extended_days: int
    replied_on: date | None
    review_request_until: date | None = Field(description="可申请复查至 review may be asked until")
    review_requested_on: date | None
    review_due: date | None
    review_decided_on: date | None
    re_review_request_until: date | None
    re_review_requested_on: date | None
    re_review_due: date | None
    re_review_decided_on: date | None
    terminated: bool


def _conditional(document: Document, if_none_match: str | None) -> Response:
    # Revalidate every time (no-cache): the tag is cheap to compare and the configuration may
    # change with a restart.
    headers = {"ETag": document.etag, "Cache-Control": "private, no-cache"}
    if document.matches(if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)


def install_errors(app: FastAPI) -> None:
    install_validation_errors(app)
    install_refusals(app)  # Refused and the others: {"error", "message"}

    @app.exception_handler(InvalidCommand)
    async def on_invalid_command(_: Request, exc: InvalidCommand) -> JSONResponse:
        return invalid_response([{"field": f, "message": m} for f, m in exc.problems])


def router(
    registrar: Callable[[], Registrar],
    reception: Callable[[], Reception],
    auth: Authenticator,
    dossier: Callable[[], Dossier],
    reference: Callable[[], Reference],
    notices: Callable[[], Notices],
    attachments: Callable[[], Attachments],
    receipts: Callable[[], Receipts],
    attachment_max_bytes: int = 20 * 1024 * 1024,
) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    @api.post(
        "/submissions",
        status_code=201,
        response_model=RegisteredOut,
        tags=["登记 registration"],
        summary="登记信访 Register a submission (new case, or repeat on an open one)",
        responses={
            401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
            403: {"description": "角色或单位范围不允许 role or bureau scope does not allow it"},
            409: {"description": "已复核终结等 refused, e.g. terminated after re-review"},
            422: {"description": "字段有误 invalid fields, each named"},
        },
    )
    async def register(
        command: RegisterSubmission,
        request: Request,
        principal: Annotated[Principal, Depends(auth.require(*REGISTERING_ROLES))],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=200,
                description="重试同一请求时保持不变 keep it when retrying the same request",
            ),
        ] = None,
    ) -> Any:
        result = await registrar().register(
            command,
            principal,
            idempotency_key=idempotency_key,
            correlation_id=uuid.UUID(request.state.correlation_id),
        )
        return result.as_json()

    @api.get(
        "/public/status",
        response_model=StatusOut,
        tags=["公开查询 public"],
        summary="凭查询码查询办理状态 A petitioner looks up their case by its query code",
        responses={404: {"description": "查询码无效 no case has this query code"}},
    )
    async def status(code: Annotated[str, Query(min_length=6, max_length=20)]) -> Any:
        found = await dossier().status_by_query_code(code)
        if found is None:
            return JSONResponse(
                status_code=404,
                content={
                    "error": "not_found",
                    "message": "查询码无效 / no case has this query code",
                },
            )
        return found

    @api.get(
        "/cases/{case_ref}/dossier",
        tags=["案卷 dossier"],
        summary="查阅案卷（明文个人信息，每次查阅均留痕）Read a case in the clear; every read is "
        "recorded",
        description=(
            "`case_ref` 为案号（如 330102-2026-000009）或案件ID。可查阅：承办单位的承办人和局长、"
            "受理或承办单位（及其上级）的信访科、市局领导、包案领导。被检举控告的单位和人员看不到"
            "此案（404）。 `case_ref` is the case number or id. Who may read: the handling "
            "unit's handlers and heads, the petition office of the receiving or handling bureau "
            "or above, the city's leaders, the leader who owns the case; to the accused the "
            "case does not exist (404). The read (who, role, bureau, fields, purpose, when) is "
            "appended to `reads-<case id>` before the answer is sent."
        ),
        responses={
            401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
            403: {"description": "您的角色不能查阅本案个人信息 your role may not read it"},
            404: {"description": "案件不存在或不在您的范围内 no such case within your scope"},
            422: {"description": "查阅目的缺失或不在可选范围 purpose missing or not allowed"},
        },
    )
    async def read_dossier(
        case_ref: Annotated[str, Path(max_length=64)],
        request: Request,
        response: Response,
        principal: Annotated[Principal, Depends(auth)],
        purpose: Annotated[
            str,
            Query(
                max_length=40,
                description="查阅目的 why you read it: handling 办理, reply 答复, review 复查复核, "
                "supervision 督办, audit 审计 (the configured list: /api/v1/reference/purposes)",
            ),
        ],
    ) -> Any:
        # Personal data must not linger in browser or proxy caches.
        response.headers["Cache-Control"] = "no-store"
        return await dossier().read(
            case_ref,
            principal,
            purpose,
            correlation_id=uuid.UUID(request.state.correlation_id),
        )

    @api.post(
        "/cases/{case_ref}/notices/{kind}",
        tags=["案卷 dossier"],
        summary="出具书面告知（DOCX）Issue a written notice to the petitioner as DOCX",
        description=(
            "kind: "
            + "、".join(f"`{k}` {v.title}" for k, v in KINDS.items())
            + "。按本局可编辑的模板（deploy/config/templates/*.docx）生成，"
            "文号按出具单位和年度连续编号；"
            "出具即查阅信访人个人信息，与 intake.NoticeIssued（文号、种类、sha256）一并记录。"
            " Rendered from the bureau's editable template with a gapless document number per "
            "issuing bureau and year; recorded as a personal-data read and as "
            "`intake.NoticeIssued` (number, kind, sha256). Same roles as the dossier."
        ),
        response_class=Response,
        responses={
            200: {"content": {MEDIA_TYPE: {}}, "description": "the DOCX file"},
            403: {"description": "您的角色不能查阅本案个人信息 your role may not"},
            404: {"description": "案件或文书种类不存在 no such case (for you) or kind"},
            409: {"description": "尚不能出具该文书（含当前状态）its act has not happened yet"},
        },
    )
    async def issue_notice(
        case_ref: Annotated[str, Path(max_length=64)],
        kind: Annotated[str, Path(max_length=20, description="文书种类 notice kind")],
        request: Request,
        principal: Annotated[Principal, Depends(auth)],
    ) -> Response:
        notice = await notices().issue(
            case_ref, kind, principal, correlation_id=uuid.UUID(request.state.correlation_id)
        )
        quoted = urllib.parse.quote(notice.filename)
        return Response(
            content=notice.content,
            media_type=MEDIA_TYPE,
            headers={
                # RFC 6266 / 5987: an ASCII fallback, then the Chinese name encoded.
                "Content-Disposition": f'attachment; filename="notice.docx"; '
                f"filename*=UTF-8''{quoted}",
                "Cache-Control": "no-store",
                "X-Document-Number": urllib.parse.quote(notice.document_number),
                "X-Content-SHA256": notice.sha256,
            },
        )

    @api.post(
        "/cases/{case_ref}/attachments",
        status_code=201,
        tags=["附件 attachments"],
        summary="添加附件 Attach a scanned letter, photo, recording or document",
        description=(
            "multipart/form-data：`file` 文件，`kind` 种类（scan 信件扫描件 PDF/JPEG/PNG/TIFF，"
            "photo 照片 JPEG/PNG/TIFF，audio 录音 MP3/WAV/AMR/M4A，document 文书材料 "
            "PDF/DOCX/JPEG/PNG/TIFF），可选 `media_type` 声明类型（缺省取文件部分的 "
            "Content-Type），`submission_id` 或 `act_version`（缺省为最近一次信访）。按文件内容"
            "（而非文件名）判断类型，与声明不符则 422；超过大小上限则 413（按 Content-Length "
            "在读取前拒绝）。文件以信访人的个人信息密钥加密保存，擦除该信访人后不可再读；SM3 "
            "摘要记入 intake.AttachmentAdded 事件（attachments-<案件ID> 流），受哈希链保护。"
            " The type is judged by the content, not the name; a declared type that differs "
            "is 422, a file over the limit 413 (refused before reading when Content-Length "
            "says so). Sealed with the petitioner's data key (unreadable once they are "
            "erased); its SM3 digest is carried by intake.AttachmentAdded on "
            "attachments-<case id>, so the hash chain covers it. Who: the receiving bureau's "
            "desk roles and those who may read the case in the clear; the accused get 404."
        ),
        responses={
            403: {"description": "您的角色不能为本案添加附件 your role may not"},
            404: {"description": "案件不存在或不在您的范围内 no such case within your scope"},
            410: {"description": "信访人已擦除 the person was erased"},
            413: {"description": "文件过大 the file is over the size limit"},
            422: {"description": "种类、类型或归属有误 kind, type or target wrong, each named"},
        },
    )
    async def add_attachment(
        case_ref: Annotated[str, Path(max_length=64)],
        request: Request,
        principal: Annotated[Principal, Depends(auth)],
        file: Annotated[
            UploadFile,
            File(
                description=f"文件 the file, at most {attachment_max_bytes} bytes",
                # The configured limit (PETITIONS_ATTACHMENT_MAX_BYTES), stated for clients.
                json_schema_extra={"maxLength": attachment_max_bytes},
            ),
        ],
        kind: Annotated[
            AttachmentKind,
            Form(description="种类 scan 信件扫描件, photo 照片, audio 录音, document 文书材料"),
        ],
        media_type: Annotated[
            str | None,
            Form(
                max_length=100, description="声明的类型 declared media type, e.g. application/pdf"
            ),
        ] = None,
        submission_id: Annotated[
            uuid.UUID | None, Form(description="所属信访 the submission it came with")
        ] = None,
        act_version: Annotated[
            int | None,
            Form(ge=1, le=1_000_000, description="所属办理行为（案件事件版本）the act, by version"),
        ] = None,
    ) -> Any:
        service = attachments()
        if file.size is not None and file.size > service.max_bytes:
            raise too_large(file.size, service.max_bytes)
        content = await file.read(service.max_bytes + 1)
        if len(content) > service.max_bytes:
            raise too_large(None, service.max_bytes)
        declared = media_type or file.content_type
        if declared is not None and declared.split(";")[0].strip().lower() in (
            "",
            "application/octet-stream",
        ):
            declared = None  # the browser did not know: nothing was declared
        upload = Upload(
            content=content,
            filename=file.filename,
            kind=kind,
            declared=declared,
            submission_id=submission_id,
            act_version=act_version,
        )
        return await service.add(
            case_ref, upload, principal, correlation_id=uuid.UUID(request.state.correlation_id)
        )

    @api.get(
        "/cases/{case_ref}/attachments",
        tags=["附件 attachments"],
        summary="附件清单（文件名脱敏）The case's attachments, file names masked",
        responses={
            403: {"description": "您的角色不能查看本案附件 your role may not"},
            404: {"description": "案件不存在或不在您的范围内 no such case within your scope"},
        },
    )
    async def list_attachments(
        case_ref: Annotated[str, Path(max_length=64)],
        principal: Annotated[Principal, Depends(auth)],
    ) -> Any:
        return await attachments().list(case_ref, principal)

    @api.get(
        "/cases/{case_ref}/attachments/{attachment_id}",
        tags=["附件 attachments"],
        summary="下载附件（查阅个人信息，留痕）Download an attachment; the read is recorded",
        description=(
            "与卷宗相同的角色和范围；须说明查阅目的；下载前先记录 intake.PersonalDataRead。"
            " Same roles and scope as the dossier; a purpose is required; the read is recorded "
            "before the file is sent. 410 once the person was erased."
        ),
        response_class=Response,
        responses={
            200: {"content": {"application/octet-stream": {}}, "description": "the file"},
            403: {"description": "您的角色不能查阅本案个人信息 your role may not"},
            404: {"description": "案件或附件不存在 no such case (for you) or attachment"},
            410: {"description": "信访人已擦除，附件不可读 the person was erased"},
            422: {"description": "查阅目的缺失或不在可选范围 purpose missing or not allowed"},
        },
    )
    async def read_attachment(
        case_ref: Annotated[str, Path(max_length=64)],
        attachment_id: uuid.UUID,
        request: Request,
        principal: Annotated[Principal, Depends(auth)],
        purpose: Annotated[
            str,
            Query(max_length=40, description="查阅目的 why (see /api/v1/reference/purposes)"),
        ],
    ) -> Response:
        found = await attachments().open(
            case_ref,
            attachment_id,
            principal,
            purpose,
            correlation_id=uuid.UUID(request.state.correlation_id),
        )
        return Response(
            content=found.content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="attachment"; '
                f"filename*=UTF-8''{urllib.parse.quote(found.filename)}",
                "Cache-Control": "no-store",
                "X-Content-SM3": found.sm3,
                "X-Content-Type-Options": "nosniff",
            },
        )

    @api.post(
        "/cases/{case_ref}/receipt",
        tags=["登记 registration"],
        summary="打印登记回执（DOCX）Print the registration receipt for the petitioner",
        description=(
            "案号、查询码、收到时间（北京时间）、接收单位、信访形式、如何查询办理进度；信访人姓名"
            "脱敏，不含其他个人信息，故不记为查阅。查询码只以密文散列保存，须由登记台传回登记时"
            "得到的查询码并核对属于本案。模板 deploy/config/templates/receipt.docx 可编辑。"
            " Case number, query code, when received (Asia/Shanghai), the receiving bureau, the "
            "channel and how to look the case up; the name masked, no other personal data (so "
            "it is not a recorded read). The query code is stored only as a keyed hash: the "
            "desk sends back the code registration returned, and it must be this case's. POST "
            "so that the code stays out of addresses and logs. Desk roles of the receiving "
            "bureau."
        ),
        response_class=Response,
        responses={
            200: {"content": {MEDIA_TYPE: {}}, "description": "the DOCX file"},
            403: {"description": "不是受理单位的登记人员 not the receiving bureau's desk"},
            404: {"description": "案件不存在或不在您的范围内 no such case within your scope"},
            422: {"description": "查询码与本案不符等 the query code is not this case's, ..."},
        },
    )
    async def print_receipt(
        case_ref: Annotated[str, Path(max_length=64)],
        body: ReceiptIn,
        principal: Annotated[Principal, Depends(auth)],
    ) -> Response:
        number, content = await receipts().render(
            case_ref, principal, query_code=body.query_code, submission_id=body.submission_id
        )
        quoted = urllib.parse.quote(f"登记回执-{number}.docx")
        return Response(
            content=content,
            media_type=MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="receipt.docx"; '
                f"filename*=UTF-8''{quoted}",
                "Cache-Control": "no-store",
            },
        )

    auditors = auth.require(*AUDIT_ROLES)

    @api.get(
        "/audit/reads",
        tags=["案卷 dossier"],
        summary="个人信息查阅记录 Recorded clear reads, per case or per reader (auditors)",
        responses={
            404: {"description": "案件不存在或不在您的范围内 no such case within your scope"},
            422: {"description": "须且只能给出 case 或 user 之一 give exactly one of case, user"},
        },
    )
    async def audit_reads(
        principal: Annotated[Principal, Depends(auditors)],
        case: Annotated[
            str | None, Query(max_length=64, description="案号或案件ID case number or id")
        ] = None,
        user: Annotated[
            str | None, Query(max_length=200, description="查阅人 the reader's user id")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Any:
        if (case is None) == (user is None):
            raise InvalidCommand(
                [
                    (
                        "case",
                        "须且只能给出 case（案号）或 user（查阅人）之一 / give exactly one of "
                        "case (a case number or id) and user (a reader)",
                    )
                ]
            )
        if case is not None:
            return await dossier().reads_of_case(case, principal)
        assert user is not None
        return await dossier().reads_by_user(user, principal, limit=limit, offset=offset)

    @api.get(
        "/reference/holidays",
        tags=["基础数据 reference"],
        summary="节假日安排 The State Council's holiday arrangement for a year (调休上班 included)",
        responses={
            304: {"description": "未变化 unchanged since the ETag you sent"},
            404: {"description": "该年份未配置 no arrangement configured for that year"},
        },
    )
    async def holidays(
        principal: Annotated[Principal, Depends(auth)],
        year: Annotated[int, Query(ge=1999, le=2200, description="年份 year, e.g. 2026")],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
    ) -> Response:
        del principal
        return _conditional(reference().holidays(year), if_none_match)

    @api.get(
        "/reference/{kind}",
        tags=["基础数据 reference"],
        summary="基础数据 Reference data from the configuration, in Chinese and English",
        description=(
            "kind: bureaus 单位（市局、分县局、部门）, categories 信访分类（含子类）, "
            "channels 渠道, outcomes 处理意见, roles 角色, leaders 局领导及接访日, "
            "purposes 查阅目的. Each "
            "answer carries an ETag; send it back in If-None-Match to get 304 when unchanged."
        ),
        responses={304: {"description": "未变化 unchanged since the ETag you sent"}},
    )
    async def reference_data(
        kind: ReferenceKind,
        principal: Annotated[Principal, Depends(auth)],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
    ) -> Response:
        del principal
        return _conditional(reference().document(kind), if_none_match)

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
