"""Intake's HTTP API, the dossier: read a case in the clear, issue its notices, attach and
read files, print the receipt; auditors list the clear reads."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

import urllib.parse
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from petitions.identity import Authenticator, Principal
from petitions.limits import MAX_OFFSET
from pydantic import BaseModel, ConfigDict, Field

from intake.application.attachments import Attachments, Upload, too_large
from intake.application.dossier import AUDIT_ROLES, Dossier
from intake.application.notices import KINDS, MEDIA_TYPE, Notices
from intake.application.receipt import Receipts
from intake.application.register import InvalidCommand

AttachmentKind = Literal["scan", "photo", "audio", "document"]


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


def router(
    auth: Authenticator,
    dossier: Callable[[], Dossier],
    notices: Callable[[], Notices],
    attachments: Callable[[], Attachments],
    receipts: Callable[[], Receipts],
    attachment_max_bytes: int,
) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

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

    return api
