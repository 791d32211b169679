"""Every XLSX the office gives, laid out one way: the reports, the 明细 export, the
command line's files.

A sheet is a header row and its data (`Sheet`). Staff open these in Excel or WPS and
print them for meetings, so each sheet gets the same layout: columns as wide as their
content (a CJK character counts double, a cell as wide as MAX_WIDTH at most, so one long
citizen's text does not push the rest off the screen), a bold header frozen at the top,
a filter over the header and the data, and an A4 landscape print that fits the width,
repeats the header on each page and carries the sheet's title in the page header.

The sheets are openpyxl's write-only ones (rows streamed to a temporary file, not held
as cell objects): the layout is set before the first row, which is why the widths are
measured from the rows given, not from the written sheet. Cells are written by
`spreadsheet.xlsx_sheet_rows`, which neutralises formulas.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sync_server.office.spreadsheet import xlsx_sheet_rows

__all__ = ["MAX_WIDTH", "MEASURED_ROWS", "Sheet", "display_width", "workbook_bytes"]

# Column widths in Excel's units (about one ASCII character each).
MIN_WIDTH = 6
MAX_WIDTH = 50
PADDING = 2  # the filter's drop-down button sits over the header's right end
A4 = 9  # the paper size code in SpreadsheetML (Worksheet.PAPERSIZE_A4)
# Widths are measured over this many rows at most: past a few thousand rows the widest
# cell of a column is almost always found already, and measuring 100,000 rows would add
# a noticeable part of the export's time for nothing.
MEASURED_ROWS = 5000


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


def _column(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def _lay_out(sheet, layout: Sheet) -> None:
    """What must be set before the first row of a write-only sheet."""
    for number, width in enumerate(_widths(layout.header, layout.rows), 1):
        sheet.column_dimensions[_column(number)].width = width
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.print_title_rows = "1:1"
    # `&` starts a code in a page header (&P is the page number): a title's own is doubled.
    sheet.oddHeader.center.text = layout.title.replace("&", "&&")
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _header_cells(sheet, header: Sequence[object]) -> list:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    cells = []
    for value in header:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        cells.append(cell)
    return cells


def _write(book, layout: Sheet) -> None:
    sheet = book.create_sheet(layout.name)
    _lay_out(sheet, layout)
    # The header's text goes through the same neutralising as the data's.
    neutral: list[list[object]] = []
    xlsx_sheet_rows(_Collector(neutral), [layout.header])
    sheet.append(_header_cells(sheet, neutral[0]))
    xlsx_sheet_rows(sheet, layout.rows)
    width = max(1, len(layout.header))
    sheet.auto_filter.ref = f"A1:{_column(width)}{1 + len(layout.rows)}"
    if layout.notes:
        xlsx_sheet_rows(sheet, [[], *([note] for note in layout.notes)])


class _Collector:
    """A stand-in sheet that keeps the appended rows (to neutralise a header once)."""

    def __init__(self, into: list) -> None:
        self.append = into.append


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for layout in sheets:
        _write(book, layout)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
