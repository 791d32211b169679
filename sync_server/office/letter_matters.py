"""The matters a new 工作建议函 lists: picked on the records list (their ids), typed as
receipts, or every open matter of a sector; each as the table row the letter keeps."""

from __future__ import annotations

import re

from starlette.requests import Request

from sync_server.intake.receipt import normalize
from sync_server.letters.content import OPEN_STATUSES, LetterError, matter_row
from sync_server.office.pages import full_rows, local_today, visible_row
from sync_server.office.reports import needs_words, summary_of

__all__ = ["as_read_by", "held_by", "lead_of_rows", "matter_rows", "matters_closed", "open_matters_of", "rows_from_ids",
           "rows_from_receipts"]

# Where a staff member pasted receipts: any run of spaces, commas or line breaks parts them.
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def rows_from_receipts(request: Request, account, text: str) -> list:
    """The rows of the receipts typed, in the order typed, each once; LetterError if one
    is not found or not this account's to see."""
    state, rows, seen = request.app.state, [], set()
    for typed in _SEPARATORS.split(text or ""):
        if not typed:
            continue
        code = normalize(typed)
        owner = state.inbox.receipt_owner(code) if code else None
        row = visible_row(request, account, owner) if owner else None
        if row is None:
            raise LetterError("unknown_matter")
        if row.id not in seen:
            seen.add(row.id)
            rows.append(row)
    return rows


def rows_from_ids(request: Request, account, ids: list[str]) -> list:
    rows = []
    for submission_id in dict.fromkeys(ids):
        row = visible_row(request, account, submission_id)
        if row is None:
            raise LetterError("unknown_matter")
        rows.append(row)
    return rows


def open_matters_of(request: Request, account, sector_id: str, department=None) -> list:
    """Every matter of the sector still being handled, oldest first; with `department`,
    only those dispatched to it."""
    state, today = request.app.state, local_today()
    registry = state.stations.registry
    rows = []
    for submission_id, entry in state.triage.all().items():
        if entry["status"] in OPEN_STATUSES and entry.get("outcome") != "merged":
            if department is not None and entry.get("department") != department.id:
                continue
            row = state.readside.row(submission_id, registry, today)
            if row is not None and row.sector_id == sector_id and visible_row(request, account, row.id) is not None:
                rows.append(row)
    return sorted(rows, key=lambda r: r.record["received_at"])


def held_by(rows: list, department) -> None:
    """A letter goes to the lead department of each matter it lists: LetterError unless
    every row is dispatched to `department` now (协办 units do not answer for a matter)."""
    if any(r.triage.get("department") != department.id for r in rows):
        raise LetterError("not_held")


def as_read_by(request: Request, account, letter: dict) -> dict | None:
    """The letter as `account` may read it: whole for staff; for a department, only the rows
    of matters it may read now (after 改派 the old department reads nothing of the matter),
    and None when no row is left, so a letter about matters all taken away is not shown."""
    if account.role == "staff":
        return letter
    rows = [m for m in letter["rows"] if visible_row(request, account, m["id"]) is not None]
    if not rows:
        return None
    return {**letter, "rows": rows, "hidden_rows": len(letter["rows"]) - len(rows)}


def matters_closed(request: Request, letter: dict) -> bool:
    """Whether every matter of the letter is closed now (a 督办单 is answered by it)."""
    triage = request.app.state.triage
    entries = [triage.entry(i) for i in letter["matters"]]
    return bool(entries) and all(e is not None and e["status"] == "closed" for e in entries)


def matter_rows(request: Request, account, rows: list) -> list[dict]:
    """The letter's table rows; a matter closed meanwhile is refused (LetterError). Sealed
    words are opened for this session where no summary was written."""
    if any(r.triage["status"] not in OPEN_STATUSES or r.triage.get("outcome") == "merged" for r in rows):
        raise LetterError("closed_matter")
    needing = [r for r in rows if needs_words(r)]
    opened = {r.id: r for r in full_rows(request, account, needing)} if needing else {}
    return [matter_row(r, summary_of(opened.get(r.id, r)) or "（未写概要）") for r in rows]


def lead_of_rows(registry, rows: list):
    """The department a letter about these matters goes to by default: the one they were
    dispatched to when they share one, else the lead of their sector."""
    departments = {r.triage.get("department") for r in rows}
    if len(departments) == 1 and (only := departments.pop()):
        return registry.department(only)
    sectors = {r.sector_id for r in rows}
    return registry.lead_of(sectors.pop()) if len(sectors) == 1 else None
