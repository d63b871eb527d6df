"""Write the notice templates (信访文书模板) once:
``python deploy/config/templates/make_templates.py``.

The .docx files it writes are what a bureau edits afterwards in Word (letterhead, wording, seal
position): intake renders them with docxtpl, whose ``{{ name }}`` tags are Jinja. Keep each tag
whole inside one run when editing (type it in one go), or Word may split it and docxtpl will not
find it. Re-running this script overwrites local edits: it is the starting point, not the source.

Fields every template may use: bureau_name, document_number, case_number, petitioners (names,
joined), issued_on, received_on; and per kind the ones its body names below.
"""

from __future__ import annotations

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


def main() -> None:
    for kind, (title, body) in TEMPLATES.items():
        print(write(kind, title, body))


if __name__ == "__main__":
    main()
