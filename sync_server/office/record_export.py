"""The 明细 export: one row per record of the office list, as staff read it.

Pure: rows in (already filtered, searched and narrowed to what the account's list shows,
their sealed words opened where this session can open them), a `workbook.Sheet` out.
The phone column exists only when the caller asked for it and may see phones (staff),
and holds a number only where the citizen consented to be called back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sync_server.office.records import CHINA, Row
from sync_server.office.workbook import Sheet
from sync_server.triage import OUTCOMES, TRACKS

__all__ = ["COLUMNS", "PHONE_COLUMN", "export_rows", "export_sheet"]

COLUMNS = ["回执码", "收到时间", "领域", "民情哨", "镇街", "状态", "感受", "建议", "办理方式", "牵头部门", "办理期限",
           "是否超期", "办理结果", "公开答复"]
PHONE_COLUMN = "联系电话（本人同意回访）"


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError):  # the calendar's edge, from an older data folder
        return iso


def _cells(row: Row, town: str, with_phone: bool, departments: Mapping[str, str]) -> list[object]:
    record, entry = row.record, row.triage
    # The registry's name now (a renamed department is one unit under one name); the
    # name kept at dispatch only for an old entry without an id, or one no longer listed.
    lead = departments.get(entry.get("department") or "") or entry.get("lead") or ""
    outcome = entry.get("outcome") or ""
    cells: list[object] = [
        record["receipt"], _local_time(record["received_at"]), row.sector_name, row.station_name, town,
        row.status_label, record.get("feeling") or "", record.get("suggestion") or "",
        TRACKS.get(entry.get("track") or "", ""), lead, entry.get("deadline") or "",
        "是" if row.overdue else "否", OUTCOMES.get(outcome, "") if outcome != "merged" else "", entry.get("public_reply") or "",
    ]
    if with_phone:
        cells.append(record.get("phone") or "" if record.get("consent") else "")
    return cells


def export_rows(rows: Sequence[Row], towns: Mapping[str, str], with_phone: bool,
                departments: Mapping[str, str] | None = None) -> list[list[object]]:
    """`towns`: station id to its town (镇街) in the registry; `departments`: department
    id to its name in the registry."""
    return [_cells(row, towns.get(row.record["station_id"], ""), with_phone, departments or {}) for row in rows]


def export_sheet(rows: Sequence[Row], towns: Mapping[str, str], with_phone: bool, title: str,
                 departments: Mapping[str, str] | None = None) -> Sheet:
    header = COLUMNS + ([PHONE_COLUMN] if with_phone else [])
    return Sheet("明细", title, header, export_rows(rows, towns, with_phone, departments))
