"""Write the notice templates (信访文书模板) once:
``python deploy/config/templates/make_templates.py``.

The .docx files it writes are what a bureau edits afterwards in Word (letterhead, wording, seal
position): intake renders them with docxtpl, whose ``{{ name }}`` tags are Jinja. Keep each tag
whole inside one run when editing (type it in one go), or Word may split it and docxtpl will not
find it. Re-running this script overwrites local edits: it is the starting point, not the source.

Fields every template may use: bureau_name, document_number, case_number, petitioners (names,
joined), issued_on, received_on; and per kind the ones its body names below.

The receipt (登记回执, ``receipt.docx``) is not a notice: no document number, and it names the
petitioner only as masked (王*). Its fields: bureau_name, case_number, query_code, received_at,
channel, petitioners (masked), category, lookup (how to look the case up), issued_on, repeat.

``python make_templates.py receipt`` writes only the named kinds (the others keep their edits).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

HERE = Path(__file__).resolve().parent

REVIEW_HINT = (
    "如对本意见不服，可自收到本意见书之日起三十日内，向{{ review_organ }}书面申请复查"
    "（《信访工作条例》第三十五条）。"
)

TEMPLATES: dict[str, tuple[str, list[str]]] = {
    "acceptance": (
        "信访事项受理告知书",
        [
            "你（们）于{{ received_on }}提出的信访事项，经审查，符合受理条件，本机关已于"
            "{{ accepted_on }}依法受理。",
            "本机关将自受理之日起六十日内办结，并于{{ handling_due }}前书面答复"
            "（《信访工作条例》第二十三条、第三十四条）。",
            "{{ notice }}",
        ],
    ),
    "declined": (
        "信访事项不予受理告知书",
        [
            "你（们）于{{ received_on }}提出的信访事项，经审查，本机关决定不予受理。",
            "理由：{{ reason }}",
        ],
    ),
    "forwarded": (
        "信访事项转送告知书",
        [
            "你（们）于{{ received_on }}提出的信访事项，经审查，已于{{ decided_on }}转送"
            "{{ organ }}办理。",
            "理由：{{ reason }}",
        ],
    ),
    "extension": (
        "信访事项延期办理告知书",
        [
            "你（们）的信访事项（本机关于{{ accepted_on }}受理），因下列原因不能在规定期限内"
            "办结，经本机关负责人批准，办理期限延长{{ days }}日，至{{ handling_due }}"
            "（《信访工作条例》第三十四条）。",
            "延期理由：{{ reason }}",
        ],
    ),
    "reply": (
        "信访事项处理意见书",
        [
            "你（们）于{{ received_on }}提出的信访事项，本机关已于{{ accepted_on }}受理。"
            "经调查核实，现答复如下：",
            "处理意见：{{ outcome }}。{{ summary }}",
            "法律依据：{{ legal_basis }}",
            REVIEW_HINT,
        ],
    ),
    "review": (
        "信访事项复查意见书",
        [
            "你（们）对信访事项处理意见不服，申请复查。经复查，意见如下：",
            "复查结论：{{ decision }}；处理意见：{{ outcome }}。{{ summary }}",
            "如对本复查意见不服，可自收到本意见书之日起三十日内，向{{ re_review_organ }}"
            "书面申请复核（《信访工作条例》第三十六条）。",
        ],
    ),
    "re_review": (
        "信访事项复核意见书",
        [
            "你（们）对信访事项复查意见不服，申请复核。经复核，意见如下：",
            "复核结论：{{ decision }}；处理意见：{{ outcome }}。{{ summary }}",
            "本复核意见为终结意见，对同一事实和理由提出的信访事项，不再受理"
            "（《信访工作条例》第三十六条）。",
        ],
    ),
}


RECEIPT_TITLE = "信访事项登记回执"
RECEIPT = [
    ("案号", "{{ case_number }}"),
    ("查询码", "{{ query_code }}"),
    ("收到时间", "{{ received_at }}"),
    ("信访形式", "{{ channel }}"),
    ("信访人", "{{ petitioners }}"),
    ("问题分类", "{{ category }}"),
    ("接收单位", "{{ bureau_name }}"),
]
RECEIPT_BODY = [
    "{{ repeat }}",
    "本机关已收到你（们）的信访事项并登记。本机关将自收到之日起十五日内决定是否受理，并书面"
    "告知（《信访工作条例》第二十三条）。",
    "查询办理进度：凭本回执的案号和查询码，{{ lookup }}。查询码仅告知信访人本人，请妥善保管，"
    "不要告诉他人。",
    "本回执不作为受理凭证。",
]


def write_receipt() -> Path:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(14)  # type: ignore[attr-defined]
    for text in ("{{ bureau_name }}", RECEIPT_TITLE):
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in RECEIPT:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value
    for text in RECEIPT_BODY:
        doc.add_paragraph(text)
    for text in ("{{ bureau_name }}（信访接待）", "{{ issued_on }}"):
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    path = HERE / "receipt.docx"
    doc.save(str(path))
    return path


def write(kind: str, title: str, body: list[str]) -> Path:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(14)  # type: ignore[attr-defined]
    for text, align in (
        ("{{ bureau_name }}", WD_ALIGN_PARAGRAPH.CENTER),
        (title, WD_ALIGN_PARAGRAPH.CENTER),
        ("{{ document_number }}", WD_ALIGN_PARAGRAPH.CENTER),
        ("案号：{{ case_number }}", WD_ALIGN_PARAGRAPH.RIGHT),
    ):
        doc.add_paragraph(text).alignment = align
    doc.add_paragraph("{{ petitioners }}：")
    for text in body:
        doc.add_paragraph(text)
    for text in ("{{ bureau_name }}", "{{ issued_on }}"):
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    path = HERE / f"{kind}.docx"
    doc.save(str(path))
    return path


def main(kinds: list[str]) -> None:
    for kind, (title, body) in TEMPLATES.items():
        if not kinds or kind in kinds:
            print(write(kind, title, body))
    if not kinds or "receipt" in kinds:
        print(write_receipt())


if __name__ == "__main__":
    main(sys.argv[1:])
