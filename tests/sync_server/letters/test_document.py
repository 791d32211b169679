"""The letter's Word file, read back with python-docx: what a department receives."""

from __future__ import annotations

import io

from docx import Document

from sync_server.letters.document import MATTER_COLUMNS, letter_docx, supervision_docx


def _read(payload: bytes):
    doc = Document(io.BytesIO(payload))
    return doc, [p.text for p in doc.paragraphs if p.text]


def test_the_letter_has_its_head_number_title_addressee_body_and_foot_in_order(letter):
    doc, lines = _read(letter_docx(letter))
    assert lines[:4] == ["金坛区扫黑除恶专项斗争领导小组办公室", "金扫黑办函〔2026〕3号",
                         "关于商请区公安分局办理群众反映问题的工作建议函", "区公安分局："]
    assert lines[4:6] == ["第一段。", "特此函告。"]
    foot = lines.index("2026年12月8日")
    assert lines[foot - 1] == "金坛区扫黑除恶专项斗争领导小组办公室" and foot > lines.index("特此函告。")


def test_the_letter_lists_every_matter_in_its_table(letter):
    doc, _ = _read(letter_docx(letter))
    table = doc.tables[0]
    rows = [[cell.text for cell in r.cells] for r in table.rows]
    assert rows[0] == list(MATTER_COLUMNS)
    assert rows[1:] == [[str(n), f"R{n:03d}-ABCD", "教育卫生", "河滨小学民情哨", f"第{n}件事：校门口摊贩占道", "2026-12-20", "已交办"]
                        for n in range(1, 4)]


def test_the_letter_is_on_a4_with_the_official_margins_and_chinese_fonts(letter):
    doc, _ = _read(letter_docx(letter))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)  # twips round a little
    title = next(p for p in doc.paragraphs if p.text.endswith("工作建议函"))
    fonts = title.runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "方正小标宋简体"


def test_the_supervision_sheet_names_the_matter_department_deadline_and_requirements(letter):
    sheet = {**letter, "number": "金扫黑办督〔2026〕1号", "rows": letter["rows"][:1], "requirements": "请于期限内办结并书面报告。"}
    _, lines = _read(supervision_docx(sheet))
    assert lines[:4] == ["金坛区扫黑除恶专项斗争领导小组办公室", "金扫黑办督〔2026〕1号", "督 办 单", "区公安分局："]
    assert "督办事项：第1件事：校门口摊贩占道（回执码 R001-ABCD，教育卫生，河滨小学民情哨）" in lines
    assert {"承办单位：区公安分局", "办理期限：2026-12-20", "督办要求：请于期限内办结并书面报告。"} <= set(lines)
    assert lines[-1] == "2026年12月8日"


def test_a_letter_whose_summary_held_control_characters_still_makes_a_word_file(letter):
    from sync_server.letters.content import matter_row
    from tests.sync_server.letters.conftest import row

    rows = [matter_row(row(1), "旧数据\x0b\x1f摊贩")]
    doc, _ = _read(letter_docx({**letter, "rows": rows}))
    assert doc.tables[0].rows[1].cells[4].text == "旧数据\\u000b\\u001f摊贩"
