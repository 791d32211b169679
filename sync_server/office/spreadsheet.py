"""Cells for CSV and XLSX files that office staff open in Excel or WPS.

Text from a citizen or a user is neutralised against formula injection the OWASP way:
a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
`'`, and XLSX cells are written with the string type, so nothing typed into the form
or the office becomes a live formula. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["Percent", "content_disposition", "csv_bytes", "neutralise", "xlsx_sheet_rows", "xlsx_text"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What an XLSX cell cannot hold: every character outside XML 1.0's Char production.
# openpyxl refuses only the control characters and writes the rest (U+FFFE, U+FFFF, a
# lone surrogate) into a sheet that Excel and WPS then refuse to open whole. Such
# characters from a staff field, a pasted document or an old data folder are written as
# visible escapes instead.
_NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Percent(float):
    """A share between 0 and 1: a percent-formatted number in XLSX, "42%" as text."""

    def __str__(self) -> str:
        return f"{100 * self:.0f}%"


def neutralise(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, Percent):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with a BOM, so Excel and WPS read the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def xlsx_sheet_rows(sheet, rows: Iterable[Iterable[object]]) -> None:
    """Append rows to an openpyxl write-only sheet: numbers as numbers, text as string
    cells. Text is neutralised first, so it never starts with `=` and openpyxl never
    types it as a formula; only a share needs a cell object of its own (its format).
    Cells cost openpyxl tens of microseconds each: plain values are its fastest path."""
    from openpyxl.cell import WriteOnlyCell

    for row in rows:
        values: list[object] = []
        for value in row:
            if isinstance(value, Percent):
                cell = WriteOnlyCell(sheet, value=float(value))
                cell.number_format = "0%"
                values.append(cell)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                values.append(value)
            else:
                values.append(xlsx_text(value) or None)
        sheet.append(values)


def xlsx_text(value: object) -> str:
    """A text cell's content: neutralised, and what XML cannot hold written as an escape."""
    text = str(neutralise(value))
    return _NOT_IN_XLSX.sub(_visible, text) if _NOT_IN_XLSX.search(text) else text


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def content_disposition(name: str, ascii_name: str) -> str:
    """RFC 6266: the UTF-8 name for browsers that read it, an ASCII one for the rest."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in ascii_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
