"""Every office XLSX laid out the same way: widths fitted to the content (CJK counts
double, capped), a bold frozen header, a filter over the data, and an A4 landscape
print that fits the width, repeats the header and carries the title."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from sync_server.office.workbook import MAX_WIDTH, Sheet, display_width, workbook_bytes


def _read(sheets):
    return load_workbook(io.BytesIO(workbook_bytes(sheets)))


def test_a_cjk_character_counts_double_and_ascii_once():
    assert display_width("ab12") == 4
    assert display_width("社会治安") == 8
    assert display_width("A区") == 3


def test_column_widths_follow_the_widest_cell_and_stop_at_the_cap():
    book = _read([Sheet("明细", "民情明细", ["回执码", "感受"], [["AB12-CD34", "很长" * 200], ["X", "短"]])])
    sheet = book["明细"]
    receipt, words = sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width
    assert display_width("AB12-CD34") < receipt < display_width("AB12-CD34") + 5
    assert words == MAX_WIDTH


def test_a_narrow_column_is_still_as_wide_as_its_header():
    sheet = _read([Sheet("明细", "民情明细", ["是否超期"], [["否"]])])["明细"]
    assert sheet.column_dimensions["A"].width >= display_width("是否超期")


def test_the_header_is_bold_and_frozen_and_the_data_is_not_bold():
    sheet = _read([Sheet("明细", "民情明细", ["回执码", "状态"], [["A1", "已受理"]])])["明细"]
    assert [c.font.b for c in sheet[1]] == [True, True]
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"


def test_the_filter_covers_the_header_and_the_data_but_not_the_notes():
    rows = [["A1", "已受理"], ["A2", "已交办"], ["A3", "已办结"]]
    sheet = _read([Sheet("明细", "民情明细", ["回执码", "状态"], rows, notes=["说明：只列出可见的记录。"])])["明细"]
    assert sheet.auto_filter.ref == "A1:B4"
    assert sheet["A6"].value == "说明：只列出可见的记录。"


def test_an_empty_sheet_still_has_a_filter_on_its_header():
    sheet = _read([Sheet("明细", "民情明细", ["回执码", "状态"], [])])["明细"]
    assert sheet.auto_filter.ref == "A1:B1"


def test_the_print_is_a4_landscape_fit_to_width_with_the_header_repeated_and_the_title_on_top():
    sheet = _read([Sheet("明细", "民情明细 2026-12-07", ["回执码"], [["A1"]])])["明细"]
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert int(sheet.page_setup.fitToWidth) == 1 and int(sheet.page_setup.fitToHeight) == 0
    assert sheet.print_title_rows == "$1:$1"
    assert "民情明细 2026-12-07" in sheet.oddHeader.center.text


def test_an_ampersand_in_the_title_is_printed_not_read_as_a_header_code():
    sheet = _read([Sheet("明细", "A&B 报表", ["回执码"], [])])["明细"]
    assert sheet.oddHeader.center.text == "A&&B 报表"


def test_cells_stay_neutralised_and_numbers_stay_numbers():
    sheet = _read([Sheet("明细", "民情明细", ["感受", "件数"], [["=1+1", 3]])])["明细"]
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type != "f"
    assert sheet["B2"].value == 3


def test_several_sheets_each_get_the_same_layout():
    book = _read([Sheet("概要", "周例会材料", ["周例会材料", "2026 年"], [["本周新收", 3]]),
                  Sheet("1.按领域", "周例会材料", ["领域", "件数"], [["社会治安", 2]])])
    for sheet in book:
        assert sheet.freeze_panes == "A2" and sheet[1][0].font.b and sheet.page_setup.orientation == "landscape"


def test_characters_xml_cannot_hold_are_written_as_escapes_in_the_header_the_data_and_the_notes():
    sheet = _read([Sheet("明细", "民情明细", ["感受\x01"], [["黑车\ufffe"], [""]], notes=["说明\x0b"])])["明细"]
    assert [sheet["A1"].value, sheet["A2"].value, sheet["A5"].value] == ["感受\\x01", "黑车\\ufffe", "说明\\x0b"]
    assert sheet["A3"].value is None
