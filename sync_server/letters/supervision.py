"""督办: a matter raised to formal supervision, with its own numbered 督办单.

The 督办单 is a letter of kind "supervision" in the store's `Letters` (numbered per year,
never reused), naming the matter, its lead department, its deadline and the office's
requirements. The matter's triage entry then holds the sheet's number (`supervision`)
and a history step (`triage.apply`'s 督办, which keeps what it changed for 撤回). Two writes, the sheet first: a kill between them leaves a sheet
whose matter does not name it yet, and the next 督办 of that matter takes that sheet
(`pending_sheet`) instead of a new number, so no number is lost or given twice.

A sheet is live only while it is not voided and is addressed to the department holding
the matter now: 撤回 of the 督办 voids its sheet, and once a sheet is voided, or its
matter was 改派 to another department, the matter may be supervised again with a new
sheet (`live_sheet`). A pending sheet addressed to a department that no longer holds the
matter is never taken again: it is voided (`stale_sheets`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sync_server.words import FORBIDDEN, line_breaks_as_lf

__all__ = ["DEFAULT_REQUIREMENTS", "MESSAGES", "SUPERVISABLE", "SupervisionError", "check_supervisable", "live_sheet",
           "pending_sheet", "sheet_fields", "stale_sheets"]

SUPERVISABLE = ("assigned", "in_progress", "review")
REQUIREMENTS_LIMIT = 2000
DEFAULT_REQUIREMENTS = "请高度重视，明确专人负责，于办理期限内办结，并将办理结果书面报送我办。逾期未办结的，请书面说明原因。"

MESSAGES = {
    "not_supervisable": "只有已交办、办理中或待审核的事项可以督办。",
    "already_supervised": "这条事项已经督办，请查看它的督办单。",
    "no_department": "这条事项还没有承办单位，请先交办给一个部门。",
    "too_long_requirements": f"督办要求最多 {REQUIREMENTS_LIMIT} 个字。",
    "bad_characters": "请删去督办要求中的控制字符、方向控制符等看不见的字符后再提交。",
}


class SupervisionError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def live_sheet(letters: Iterable[Mapping[str, Any]], entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """The sheet the matter names, while it still binds: not voided, and addressed to the
    department that holds the matter now."""
    number = entry.get("supervision")
    if not number:
        return None
    for letter in letters:
        if letter["kind"] == "supervision" and letter["number"] == number:
            if letter.get("voided") or letter["department"] != entry.get("department"):
                return None
            return dict(letter)
    return None


def check_supervisable(entry: Mapping[str, Any], live: Mapping[str, Any] | None = None) -> None:
    """`live`: the matter's sheet that still binds (`live_sheet`); a matter is supervised once at a time."""
    if live is not None:
        raise SupervisionError("already_supervised")
    if entry["status"] not in SUPERVISABLE:
        raise SupervisionError("not_supervisable")


def sheet_fields(*, matter: dict[str, Any], department, requirements: str, sent_on: date, due: date, issuer: str,
                 by: str, by_display: str, now: datetime) -> dict[str, Any]:
    """The 督办单 before the store numbers it. It is answered by the matter's result: its
    answer date is the matter's deadline when it has one."""
    if department is None:
        raise SupervisionError("no_department")
    text = line_breaks_as_lf(requirements or "").strip() or DEFAULT_REQUIREMENTS
    if len(text) > REQUIREMENTS_LIMIT:
        raise SupervisionError("too_long_requirements")
    if FORBIDDEN.search(text):  # nobody types them, and a Word file cannot carry them
        raise SupervisionError("bad_characters")
    return {
        "department": department.id, "department_name": department.name, "issuer": issuer,
        "title": f"督办单：{matter['receipt']}", "requirements": text, "matters": [matter["id"]], "rows": [matter],
        "sent_on": sent_on.isoformat(), "answer_due": (matter.get("deadline") or due.isoformat()), "answer": None,
        "voided": False, "by": by, "by_display": by_display, "at": now.isoformat(timespec="seconds"), "history": [],
    }


def _unvoided_sheets(letters: Iterable[Mapping[str, Any]], entry: Mapping[str, Any], submission_id: str):
    return [dict(v) for v in letters if v["kind"] == "supervision" and not v.get("voided")
            and v["matters"] == [submission_id] and v["number"] != entry.get("supervision")]


def pending_sheet(letters: Iterable[Mapping[str, Any]], entry: Mapping[str, Any], submission_id: str) -> dict[str, Any] | None:
    """A 督办单 issued for this matter that its entry does not name (a kill came between),
    addressed to the department holding the matter now."""
    return next((v for v in _unvoided_sheets(letters, entry, submission_id) if v["department"] == entry.get("department")),
                None)


def stale_sheets(letters: Iterable[Mapping[str, Any]], entry: Mapping[str, Any], submission_id: str) -> list[dict[str, Any]]:
    """The matter's sheets not voided yet that no longer bind: addressed to a department
    that does not hold it now (改派 came after), or the one it names but no longer binds."""
    named = [dict(v) for v in letters if v["kind"] == "supervision" and not v.get("voided")
             and v["number"] == entry.get("supervision") and v["department"] != entry.get("department")]
    return named + [v for v in _unvoided_sheets(letters, entry, submission_id) if v["department"] != entry.get("department")]
