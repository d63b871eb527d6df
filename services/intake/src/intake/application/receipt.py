"""The printable receipt (登记回执) the desk hands the petitioner at registration: case number,
query code, when and how it was received, by which bureau, and how to look the case up.

It carries no personal data in the clear: the petitioner's name is masked (王*), the summary and
documents are left out. So printing it is not a read in the clear and is not recorded as one;
it is rendered from the masked case, without unwrapping any key.

The query code is stored only as a keyed hash (``intake.query_codes``), so the receipt cannot
recover it: the desk passes the code it was given at registration, and the receipt is printed
only when that code belongs to the case (422 otherwise). Without a code (a repeat submission,
which gets none) the receipt says to use the code of the first registration.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from docxtpl import DocxTemplate  # type: ignore[import-untyped]
from petitions.bureaus import UnknownCodeError
from petitions.clock import Clock, utc_now
from petitions.identity import ForbiddenError, Principal
from petitions.log import get_logger
from petitions.personal import BlindIndex
from petitions.scope import reach

from intake.application.attachments import DESK_ROLES
from intake.application.dossier import SHANGHAI, Dossier, _not_found
from intake.application.register import InvalidCommand

log = get_logger(__name__)

CHANNELS: Final = {
    "visit": "来访",
    "letter": "来信",
    "phone": "来电",
    "online": "网上信访",
    "congress_referral": "人大交办",
    "higher_referral": "上级转办",
}
DEFAULT_LOOKUP: Final = "可到本机关信访接待窗口查询，或通过网上信访事项查询页面输入查询码查询"


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class Receipts:
    def __init__(
        self,
        dossier: Dossier,
        index: BlindIndex,
        template: Path,
        *,
        lookup: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._dossier = dossier
        self._index = index
        self._template = template
        self._lookup = lookup or DEFAULT_LOOKUP
        self._clock = clock

    async def render(
        self,
        ref: str,
        principal: Principal,
        *,
        query_code: str | None,
        submission_id: UUID | None,
    ) -> tuple[str, bytes]:
        """(case number, DOCX bytes)."""
        dossier = self._dossier
        case = (await dossier.load(ref)).case
        if not dossier.in_scope(case, principal):
            raise _not_found()
        if principal.role not in DESK_ROLES or not reach(principal, dossier.config).covers(
            case.bureau
        ):
            raise ForbiddenError(
                "may_not_print_receipt",
                f"「{principal.role.label}」不能打印本案回执；由受理单位的登记人员打印 / your role "
                f"({principal.role}) may not print this case's receipt: the receiving bureau's "
                "desk prints it",
            )
        problems: list[tuple[str, str]] = []
        code = None if query_code is None else query_code.strip().upper()
        if code:
            owner = await dossier.storage.case_of_query_code(self._index.token("query_code", code))
            if owner != case.case_id:
                problems.append(
                    (
                        "query_code",
                        "查询码与本案不符，请核对登记时给出的查询码 / the query code is not this "
                        "case's: check the code given at registration",
                    )
                )
        submissions = case.submissions
        chosen = submissions[-1] if submissions else None
        if submission_id is not None:
            chosen = next((s for s in submissions if s.submission_id == submission_id), None)
            if chosen is None:
                problems.append(
                    ("submission_id", "本案没有这次信访 / the case has no submission with this id")
                )
        if problems:
            raise InvalidCommand(problems)
        config = dossier.config
        data = None if chosen is None else chosen.data
        received = None if data is None else data.received_at.astimezone(SHANGHAI)
        receiving = case.bureau if data is None else data.receiving_bureau
        try:
            category = config.category(case.category).name
        except UnknownCodeError:  # an old code no longer configured: show the code
            category = case.category
        context: dict[str, Any] = {
            "bureau_name": config.bureau_name(receiving)
            if config.is_bureau(receiving)
            else receiving,
            "case_number": case.case_number,
            "query_code": code
            or "（同首次登记时告知的查询码 the code given at first registration）",
            "received_at": ""
            if received is None
            else f"{_day(received.date())} {received:%H:%M}（北京时间）",
            "channel": "" if data is None else CHANNELS.get(str(data.channel), str(data.channel)),
            # Masked as every reader without keys sees them (the case was folded masked).
            "petitioners": "、".join(p.name or "匿名" for p in case.petitioners) or "匿名",
            "category": category,
            "lookup": self._lookup,
            "issued_on": _day(self._clock().astimezone(SHANGHAI).date()),
            "repeat": "本次信访为同一事项的重复信访，已并入原案办理。"
            if data is not None and data.is_repeat
            else "",
        }
        template = DocxTemplate(str(self._template))
        template.render(context, autoescape=True)
        out = io.BytesIO()
        template.save(out)
        log.info("receipt.printed", case=str(case.case_id))
        return case.case_number, out.getvalue()


__all__ = ["Receipts"]
