"""Office work from the command line: reports, exports and retention.

The `minqing inbox report|export|retention` subcommands call these; they work on the
same data folder the server writes (retention writes too). The accounts that
`minqing office ...` manages are `accounts.py`'s.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

from minqing.registry import load_registry
from sync_server.office.department_figures import Period, period_figures, period_figures_alone
from sync_server.office.department_tables import monthly_tables, weekly_tables
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.record_export import export_sheet
from sync_server.office.records import CHINA, join, parse_day, parse_month
from sync_server.office.reports import monthly, to_csv, to_document, to_xlsx, weekly
from sync_server.office.spreadsheet import csv_bytes
from sync_server.office.workbook import workbook_bytes
from sync_server.store import open_store
from sync_server.store.retention import RetentionPolicy, run_retention
from sync_server.triage import OUTCOMES, SATISFACTION

__all__ = ["export_records", "remove_old_phones", "render_report"]


def _stored(data_dir: Path, opener=None):
    """Every record (sealed words opened in memory by `opener`, see cli/keys.py) and the
    triage entries, read beside a running server."""
    with open_store(data_dir, writer=False) as store:
        records = list(store.submissions.records())
        entries = store.triage.all()
    return (opener(records) if opener is not None else records), entries


def _rows(data_dir: Path, registry: Path, opener=None):
    records, entries = _stored(data_dir, opener)
    return join(records, entries, load_registry(registry), datetime.now(CHINA).date())


def _report_sets(data_dir: Path, registry: Path, start: date, end: date, opener=None):
    """The report's rows from every stored record, through the same read side the server
    keeps (the command line reads the folder once); phones stay in `records` for `fill`."""
    records, entries = _stored(data_dir, opener)
    today = datetime.now(CHINA).date()
    readside = MemoryReadSide(records, entries)
    loaded = load_registry(registry)
    sets = readside.report_sets(None, start, end, loaded, today)
    by_id = {r["id"]: r for r in records}

    def fill(rows):
        return [dataclasses.replace(row, record=by_id.get(row.id, row.record)) for row in rows]

    def figure_tables(period: Period):  # the 考核 tables, from the same read side: the store is read once
        now = datetime.now(CHINA)
        if period.kind == "week":
            return weekly_tables(period_figures_alone(readside, loaded, period, today, now), loaded)
        return monthly_tables(*period_figures(readside, loaded, period, today, now), loaded)

    return sets, today, fill, figure_tables


def render_report(data_dir: Path, registry: Path, kind: str, fmt: str, when: str | None, with_phone: bool,
                  opener=None) -> bytes:
    if kind == "weekly":
        day = parse_day(when) if when else datetime.now(CHINA).date()
        if day is None:
            raise ValueError(when)
        start = day - timedelta(days=day.weekday())
        sets, today, fill, figure_tables = _report_sets(data_dir, registry, start, start + timedelta(days=6), opener)
        report = weekly(sets, day, with_phone, today=today, prepare=fill)
        report.tables += figure_tables(Period.week(day, today))
    else:
        period = parse_month(when or datetime.now(CHINA).strftime("%Y-%m"))
        if period is None:
            raise ValueError(when)
        first = date(*period, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        sets, today, _, figure_tables = _report_sets(data_dir, registry, first, last)
        report = monthly(sets, *period)
        report.tables += figure_tables(Period.month(*period, today))
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    return to_document(report).encode("utf-8")


def export_records(data_dir: Path, registry: Path, with_phone: bool, opener=None, fmt: str = "csv") -> bytes:
    """Every record as CSV (UTF-8 with BOM), or as the office's 明细 XLSX (the same sheet
    the list's 导出明细 gives). Phone numbers only when asked for."""
    if fmt == "xlsx":
        rows = _rows(data_dir, registry, opener)
        loaded = load_registry(registry)
        towns = {station.id: station.town for station in loaded.stations}
        title = f"民情明细 {datetime.now(CHINA).date().isoformat()}"
        return workbook_bytes([export_sheet(rows, towns, with_phone, title, {d.id: d.name for d in loaded.departments})])
    columns = ["回执码", "收到时间", "群众提交时间", "领域", "民情哨", "满意度", "感受", "建议", "状态", "结果", "牵头部门",
               "办理期限", "公开答复"]
    lines = [columns + (["联系电话"] if with_phone else [])]
    for row in sorted(_rows(data_dir, registry, opener), key=lambda r: r.record["received_at"]):
        r, t = row.record, row.triage
        cells = [r["receipt"], r["received_at"], r["created_at"], row.sector_name, row.station_name,
                 SATISFACTION.get(r["rating"], ""), r["feeling"], r["suggestion"], row.status_label,
                 OUTCOMES.get(t["outcome"] or "", ""), t["lead"], t["deadline"] or "", t["public_reply"]]
        if with_phone:
            cells.append(r["phone"] if r.get("consent") and r.get("phone") else "")
        lines.append(cells)
    # Citizens' and staff's text never becomes a live formula in Excel or WPS.
    return csv_bytes(lines)


def remove_old_phones(data_dir: Path, days_after_close: int = 30, today: date | None = None,
                      max_days: int = 180) -> int:
    """Retention by hand (the server also runs it daily): see `retention`."""
    policy = RetentionPolicy(days_after_close=days_after_close, max_days=max_days)
    now = datetime.combine(today, datetime.min.time(), CHINA) if today else datetime.now(CHINA)
    with open_store(data_dir) as store:
        return run_retention(store.submissions, store.triage, policy, now)
