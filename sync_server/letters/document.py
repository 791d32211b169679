"""A 工作建议函 or a 督办单 as a Word document, laid out as a Chinese official letter
(GB/T 9704-2012, the letter form 信函格式): the issuing office's name in red over a red
rule, the 文号 on the right, the title, the addressee, the body, the matters' table, the
issuing office and the date (成文日期) at the foot, on A4 with the standard margins.

Pure: from the stored letter to bytes. Fonts are named, not embedded: 仿宋_GB2312 and
方正小标宋简体 where the office has them (Word and WPS fall back to 仿宋 and 宋体)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from sync_server.letters.numbering import chinese_date

__all__ = ["MATTER_COLUMNS", "letter_docx", "supervision_docx"]

MATTER_COLUMNS = ("序号", "回执码", "领域", "民情哨", "事项概要", "办理期限", "状态")
RED = RGBColor(0xE0, 0x00, 0x00)
BODY_FONT, TITLE_FONT, TABLE_FONT = "仿宋_GB2312", "方正小标宋简体", "宋体"


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name, run.font.size, run.font.bold = name, Pt(size), bold
    # Word picks a Chinese run's font from eastAsia: without it, Chinese text ignores `name`.
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color


def _paragraph(doc, text: str, *, size: float = 16, font: str = BODY_FONT, align=None, indent: bool = False,
               bold: bool = False, color: RGBColor | None = None, after: float = 0):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    form = paragraph.paragraph_format
    form.space_before, form.space_after, form.line_spacing = Pt(0), Pt(after), Pt(28)  # 28 pt: 22 lines a page
    if indent:
        form.first_line_indent = Pt(size * 2)  # two characters
    _font(paragraph.add_run(text), font, size, bold, color)
    return paragraph


def _red_rule(paragraph) -> None:
    """The 版头 rule under the issuing office's name: a red bottom border of the paragraph."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "double"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "E00000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def _head(doc, issuer: str, number: str, title: str, addressee: str) -> None:
    head = _paragraph(doc, issuer, size=22, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, after=6)
    _red_rule(head)
    _paragraph(doc, number, align=WD_ALIGN_PARAGRAPH.RIGHT, after=14)
    _paragraph(doc, title, size=22, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, after=14)
    if addressee:
        _paragraph(doc, f"{addressee}：")


def _foot(doc, issuer: str, day: date) -> None:
    _paragraph(doc, "")
    # 落款: the office, and under it the date, right of centre with four characters to spare.
    for text in (issuer, chinese_date(day)):
        paragraph = _paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = Pt(16 * 4)


def _table(doc, rows: list[dict[str, Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(MATTER_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(table.rows[0].cells, MATTER_COLUMNS, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(name), TABLE_FONT, 10.5, bold=True)
    for n, row in enumerate(rows, 1):
        values = (str(n), row["receipt"], row["sector"], row["post"], row["summary"], row["deadline"] or "—",
                  row["status"])
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(value), TABLE_FONT, 10.5)
    # The summary takes what the short columns leave of the 156 mm type area.
    for column, width in zip(table.columns, (10, 26, 20, 24, 44, 20, 14), strict=True):
        for cell in column.cells:
            cell.width = Mm(width)


def _bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _document(title: str):
    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = ""  # the office's name is in the letter, not the author of the file
    _page(doc)
    return doc


def letter_docx(letter: dict[str, Any]) -> bytes:
    """The 工作建议函: head, addressee (the lead department), body, the matters' table as 附件, foot."""
    doc = _document(letter["title"])
    _head(doc, letter["issuer"], letter["number"], letter["title"], letter["department_name"])
    for line in letter["body"].split("\n"):
        if line.strip():
            _paragraph(doc, line.strip(), indent=True)
    _paragraph(doc, f"附件：{letter['department_name']}牵头办理事项清单（{len(letter['rows'])} 项）", indent=True)
    _foot(doc, letter["issuer"], date.fromisoformat(letter["sent_on"]))
    doc.add_page_break()
    _paragraph(doc, "附件", font="黑体")
    _paragraph(doc, f"{letter['department_name']}牵头办理事项清单", size=18, font=TITLE_FONT,
               align=WD_ALIGN_PARAGRAPH.CENTER, after=10)
    _table(doc, letter["rows"])
    return _bytes(doc)


def supervision_docx(sheet: dict[str, Any]) -> bytes:
    """The 督办单: head, the matter, its lead department, deadline and the requirements, foot."""
    doc = _document("督办单")
    _head(doc, sheet["issuer"], sheet["number"], "督 办 单", sheet["department_name"])
    row = sheet["rows"][0]
    for label, value in (("督办事项", f"{row['summary']}（回执码 {row['receipt']}，{row['sector']}，{row['post']}）"),
                         ("承办单位", sheet["department_name"]), ("办理期限", row["deadline"] or "—"),
                         ("督办要求", sheet["requirements"])):
        _paragraph(doc, f"{label}：{value}", indent=True)
    _foot(doc, sheet["issuer"], date.fromisoformat(sheet["sent_on"]))
    return _bytes(doc)
