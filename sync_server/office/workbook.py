"""Every XLSX the office gives, laid out one way: the reports, the 明细 export, the
command line's files.

A sheet is a header row and its data (`Sheet`). Staff open these in Excel or WPS and
print them for meetings, so each sheet gets the same layout: columns as wide as their
content (a CJK character counts double, a cell as wide as MAX_WIDTH at most, so one long
citizen's text does not push the rest off the screen), a bold header frozen at the top,
a filter over the header and the data, and an A4 landscape print that fits the width,
repeats the header on each page and carries the sheet's title in the page header.

The file is written with openpyxl's write-only mode, which streams rows to the sheet
instead of holding a cell object for each: about 20 microseconds a cell measured here
under load. Text is neutralised by `spreadsheet.xlsx_sheet_rows` so nothing becomes a
formula; numbers stay numbers and a `Percent` is a number formatted 0%.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sync_server.office.spreadsheet import xlsx_sheet_rows, xlsx_text

__all__ = ["MAX_WIDTH", "MEASURED_ROWS", "Sheet", "display_width", "workbook_bytes"]

# Column widths in Excel's units (about one ASCII character each).
MIN_WIDTH = 6
MAX_WIDTH = 50
PADDING = 2  # the filter's drop-down button sits over the header's right end
# Widths are measured over this many rows at most: past a few thousand rows the widest
# cell of a column is almost always found already, and measuring 100,000 rows would add
# a noticeable part of the export's time for nothing.
MEASURED_ROWS = 5000
_BOLD = Font(bold=True)


@dataclass
class Sheet:
    name: str  # the tab's name (Excel allows 31 characters, no []:*?/\)
    title: str  # printed in the page header
    header: Sequence[object]
    rows: Sequence[Sequence[object]]
    notes: Sequence[str] = field(default_factory=tuple)  # lines under the data, outside the filter


def display_width(value: object) -> int:
    """How many ASCII-wide columns the text takes: a CJK character (three UTF-8 bytes)
    counts double. Counted from the UTF-8 length, at C speed, not character by character."""
    text = str(value)
    if text.isascii():
        return len(text)
    return len(text) + (len(text.encode("utf-8", "surrogatepass")) - len(text)) // 2


def _widths(header: Sequence[object], rows: Sequence[Sequence[object]]) -> list[int]:
    widths = [display_width(h) for h in header]
    for row in rows[:MEASURED_ROWS]:
        for n, value in enumerate(row):
            if value is None or value == "":
                continue
            text = str(value)
            # A line break starts a new line in the cell: its widest line counts.
            width = max(map(display_width, text.split("\n"))) if "\n" in text else display_width(text)
            if n >= len(widths):
                widths.append(width)
            elif width > widths[n]:
                widths[n] = width
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + PADDING)) for w in widths]


def _header(sheet, header: Sequence[object]) -> list[WriteOnlyCell]:
    cells = []
    for value in header:
        cell = WriteOnlyCell(sheet, value=xlsx_text(value))
        cell.font = _BOLD
        cells.append(cell)
    return cells


def _add_sheet(book: Workbook, layout: Sheet) -> None:
    sheet = book.create_sheet(layout.name)
    # Widths and the frozen pane go at the top of the sheet's XML: set before any row.
    for n, width in enumerate(_widths(layout.header, layout.rows), 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(layout.header)))}{1 + len(layout.rows)}"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = "1:1"
    # `&` starts a code in a page header (&P is the page number): a title's own is doubled.
    sheet.oddHeader.center.text = layout.title.replace("&", "&&")
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.append(_header(sheet, layout.header))
    xlsx_sheet_rows(sheet, layout.rows)
    if layout.notes:  # one empty row, then the notes: outside the filter
        xlsx_sheet_rows(sheet, [[], *([note] for note in layout.notes)])


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook(write_only=True)
    for layout in sheets:
        _add_sheet(book, layout)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
