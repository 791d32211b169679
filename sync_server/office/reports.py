"""Meeting reports: the weekly meeting pack (周例会) and the monthly report (月例会).

`weekly()` and `monthly()` are pure: joined rows in, a `Report` of titled tables out.
The same `Report` renders as printable HTML with SVG bar charts (drawn here, no chart
library, nothing loaded from elsewhere), as CSV (UTF-8 with BOM, so Excel and WPS open
the Chinese correctly) and as XLSX (openpyxl). Phone numbers appear only when asked
for by someone allowed to see them, and only where the citizen consented.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

from ..triage import ACTIONS, OUTCOMES, STATUSES
from .records import Row, local_date
from .spreadsheet import Percent, csv_bytes, xlsx_sheet_rows

__all__ = ["Report", "Table", "monthly", "summary_of", "to_csv", "to_html", "to_xlsx", "weekly"]

ACTION_LABELS = {**{action: label for action, (_, label) in ACTIONS.items()}, "merged_from": "合并了重复反映"}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: bool = False  # a bar chart of the last column by the first


@dataclass
class Report:
    title: str
    period: str
    tables: list[Table]
    figures: dict[str, str] = field(default_factory=dict)


def _week_of(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def _received(row: Row) -> date:
    return local_date(row.record["received_at"])


def _closed(row: Row) -> date | None:
    closed = row.triage.get("closed_at")
    return local_date(closed) if closed else None


def _counts(title: str, label: str, keys: Counter, chart: bool = True) -> Table:
    return Table(title, [label, "条数"], [[k, n] for k, n in sorted(keys.items(), key=lambda kv: (-kv[1], kv[0]))], chart)


SUMMARY_LENGTH = 40


def summary_of(row: Row) -> str:
    """The one line a meeting reads: written by staff at 交办, else the start of the text."""
    written = (row.triage.get("summary") or "").strip()
    if written:
        return written
    text = " ".join((row.record.get("feeling") or row.record.get("suggestion") or "").split())
    return text[:SUMMARY_LENGTH] + ("…" if len(text) > SUMMARY_LENGTH else "")


def _changes(row: Row, start: date, end: date) -> str:
    """What happened to the matter in the report's week, in the office's words."""
    done = []
    for step in row.triage["history"]:
        if start <= local_date(step["at"]) <= end:
            label = ACTION_LABELS.get(step["action"], step["action"])
            if step["from"] != step["to"]:
                label += f"（{STATUSES.get(step['from'], '')}→{STATUSES.get(step['to'], '')}）"
            if label not in done:
                done.append(label)
    return "；".join(done) or "本周无变化"


def _item(row: Row, with_phone: bool, start: date, end: date) -> list:
    cells = [row.record["receipt"], _received(row).isoformat(), summary_of(row), row.sector_name, row.station_name,
             row.triage["lead"], row.triage["deadline"] or "", row.status_label, _changes(row, start, end)]
    if with_phone:
        cells.append(row.record.get("phone") or "" if row.record.get("consent") else "")
    return cells


def _item_columns(with_phone: bool) -> list[str]:
    return (["回执码", "收到日期", "概要", "领域", "民情哨", "牵头部门", "办理期限", "状态", "本周变化"]
            + (["联系电话"] if with_phone else []))


NOWRAP_COLUMNS = frozenset({"回执码", "收到日期", "办理期限", "联系电话"})


def weekly(rows: list[Row], day: date, with_phone: bool = False) -> Report:
    """The meeting pack. `with_phone` asks for the phone column; the caller fills
    `record["phone"]` only where the citizen consented."""
    start, end = _week_of(day)
    in_week = [r for r in rows if start <= _received(r) <= end]
    columns = _item_columns(with_phone)
    closed = [r for r in rows if (d := _closed(r)) and start <= d <= end and r.triage["status"] in ("closed", "followed_up")]
    merged = [r for r in closed if r.triage["outcome"] == "merged"]
    # A duplicate merged away is not a matter solved: it never counts as a closure.
    solved = [r for r in closed if r.triage["outcome"] != "merged"]
    tables = [
        _counts("本周新收：按领域", "领域", Counter(r.sector_name for r in in_week)),
        _counts("本周新收：按民情哨", "民情哨", Counter(r.station_name for r in in_week)),
        Table("提交周例会研究的事项", columns, [_item(r, with_phone, start, end) for r in rows if r.triage["weekly"]]),
        Table("已超期事项", columns, [_item(r, with_phone, start, end) for r in rows if r.overdue]),
        Table("本周办结事项", columns + ["办结结果"], [
            _item(r, with_phone, start, end) + [OUTCOMES.get(r.triage["outcome"] or "", "")] for r in solved
        ]),
    ]
    figures = {"本周新收": len(in_week), "周例会事项": len(tables[2].rows),
               "超期": len(tables[3].rows), "本周办结": len(solved), "本周合并的重复反映": len(merged)}
    return Report("周例会材料", f"{start.isoformat()} 至 {end.isoformat()}", tables, figures)


def _share(part: int, whole: int) -> Percent | str:
    return Percent(part / whole) if whole else "—"


def monthly(rows: list[Row], year: int, month: int) -> Report:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    in_month = [r for r in rows if first <= _received(r) <= last]
    closed = [r for r in rows if (d := _closed(r)) and first <= d <= last
              and r.triage["status"] in ("closed", "followed_up") and r.triage["outcome"] != "merged"]
    with_deadline = [r for r in closed if r.triage["deadline"]]
    on_time = [r for r in with_deadline if _closed(r).isoformat() <= r.triage["deadline"]]
    days = [(_closed(r) - _received(r)).days for r in closed]
    satisfaction = []
    sectors = sorted({r.sector_name for r in in_month} | {r.sector_name for r in rows if r.triage["satisfaction_after"]})
    for sector in sectors:
        before = [r.record["rating"] for r in in_month if r.sector_name == sector and r.record["rating"]]
        after = [r.triage["satisfaction_after"] for r in rows if r.sector_name == sector and r.triage["satisfaction_after"]
                 and first <= local_date(r.triage["updated_at"]) <= last]
        satisfaction.append([sector, len(before), _share(before.count("satisfied"), len(before)),
                             len(after), _share(after.count("satisfied"), len(after))])
    tables = [
        _counts("本月新收：按领域", "领域", Counter(r.sector_name for r in in_month)),
        _counts("本月新收：按民情哨", "民情哨", Counter(r.station_name for r in in_month)),
        _counts("本月新收：按状态", "状态", Counter(r.status_label for r in in_month)),
        Table("满意度：提交时与回访后（按领域）", ["领域", "提交时评价数", "提交时满意", "回访数", "回访满意"], satisfaction),
    ]
    figures = {
        "本月新收": len(in_month),
        "本月办结": len(closed),
        "期限内办结占比": _share(len(on_time), len(with_deadline)),
        "办结天数中位数（天）": statistics.median(days) if days else "—",
    }
    return Report("月例会报告", f"{year} 年 {month} 月", tables, figures)


def _lines(report: Report) -> list[list]:
    lines: list[list] = [[report.title, report.period]]
    lines += [[name, value] for name, value in report.figures.items()]
    for table in report.tables:
        lines += [[], [table.title], table.columns, *table.rows]
    return lines


def to_csv(report: Report) -> bytes:
    return csv_bytes(_lines(report))


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("概要")
    xlsx_sheet_rows(summary, [[report.title, report.period], *([k, v] for k, v in report.figures.items())])
    for number, table in enumerate(report.tables, 1):
        sheet = book.create_sheet(f"{number}.{table.title[:24]}".replace("：", "-"))
        xlsx_sheet_rows(sheet, [table.columns, *table.rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bar_chart(table: Table) -> str:
    """A horizontal SVG bar chart of the table's counts, drawn server-side."""
    rows = table.rows[:15]
    if not rows:
        return ""
    top = max(n for _, n in rows) or 1
    height = 24 * len(rows) + 8
    bars = []
    for i, (label, n) in enumerate(rows):
        y = 4 + 24 * i
        width = 300 * n / top
        bars.append(
            f'<text x="150" y="{y + 16}" text-anchor="end" font-size="13">{escape(str(label))}</text>'
            f'<rect x="158" y="{y + 3}" width="{width:.1f}" height="16" fill="#e53935"/>'
            f'<text x="{164 + width:.1f}" y="{y + 16}" font-size="13">{n}</text>'
        )
    return (f'<svg class="chart" role="img" aria-label="{escape(table.title)}" viewBox="0 0 520 {height}" '
            f'width="520" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>')


def to_html(report: Report) -> str:
    """The report's body (tables and charts); the page template frames it."""
    parts = ['<dl class="figures">']
    parts += [f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in report.figures.items()]
    parts.append("</dl>")
    for table in report.tables:
        parts.append(f"<section><h2>{escape(table.title)}</h2>")
        if table.chart:
            parts.append(bar_chart(table))
        if table.rows:
            classes = [' class="nowrap"' if c in NOWRAP_COLUMNS else "" for c in table.columns]
            head = "".join(f"<th{k}>{escape(c)}</th>" for c, k in zip(table.columns, classes, strict=True))
            body = "".join("<tr>" + "".join(f"<td{k}>{escape(str(c))}</td>" for c, k in zip(row, classes, strict=True))
                           + "</tr>" for row in table.rows)
            parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
        else:
            parts.append("<p>无。</p>")
        parts.append("</section>")
    return "".join(parts)

