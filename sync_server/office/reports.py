"""Meeting reports: the weekly meeting pack (周例会) and the monthly report (月例会).

`weekly()` and `monthly()` are pure: joined rows in, a `Report` of titled tables out.
The same `Report` renders as printable HTML with SVG bar charts (drawn here, no chart
library, nothing loaded from elsewhere), as CSV (UTF-8 with BOM, so Excel and WPS open
the Chinese correctly) and as XLSX (openpyxl). Phone numbers appear only when asked
for by someone allowed to see them, and only where the citizen consented.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

from ..triage import OUTCOMES
from .records import Row, local_date

__all__ = ["Report", "Table", "monthly", "to_csv", "to_html", "to_xlsx", "weekly"]


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


def _item(row: Row, with_phone: bool) -> list:
    cells = [row.record["receipt"], _received(row).isoformat(), row.sector_name, row.station_name, row.status_label,
             row.triage["lead"], row.triage["deadline"] or ""]
    if with_phone:
        cells.append(row.record["phone"] if row.record.get("consent") and row.record.get("phone") else "")
    return cells


def _item_columns(with_phone: bool) -> list[str]:
    return ["回执码", "收到日期", "领域", "民情哨", "状态", "牵头部门", "办理期限"] + (["联系电话"] if with_phone else [])


def weekly(rows: list[Row], day: date, with_phone: bool = False) -> Report:
    start, end = _week_of(day)
    in_week = [r for r in rows if start <= _received(r) <= end]
    columns = _item_columns(with_phone)
    tables = [
        _counts("本周新收：按领域", "领域", Counter(r.sector_name for r in in_week)),
        _counts("本周新收：按民情哨", "民情哨", Counter(r.station_name for r in in_week)),
        Table("提交周例会研究的事项", columns, [_item(r, with_phone) for r in rows if r.triage["weekly"]]),
        Table("已超期事项", columns, [_item(r, with_phone) for r in rows if r.overdue]),
        Table("本周办结事项", columns + ["办结结果"], [
            _item(r, with_phone) + [OUTCOMES.get(r.triage["outcome"] or "", "")]
            for r in rows if (closed := _closed(r)) and start <= closed <= end
        ]),
    ]
    figures = {"本周新收": str(len(in_week)), "周例会事项": str(len(tables[2].rows)),
               "超期": str(len(tables[3].rows)), "本周办结": str(len(tables[4].rows))}
    return Report("周例会材料", f"{start.isoformat()} 至 {end.isoformat()}", tables, figures)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def monthly(rows: list[Row], year: int, month: int) -> Report:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    in_month = [r for r in rows if first <= _received(r) <= last]
    closed = [r for r in rows if (d := _closed(r)) and first <= d <= last and r.triage["outcome"] != "merged"]
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
        "本月新收": str(len(in_month)),
        "本月办结": str(len(closed)),
        "期限内办结占比": _share(len(on_time), len(with_deadline)),
        "办结天数中位数": f"{statistics.median(days):g} 天" if days else "—",
    }
    return Report("月例会报告", f"{year} 年 {month} 月", tables, figures)


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.title, report.period])
    for name, value in report.figures.items():
        writer.writerow([name, value])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows(table.rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "概要"
    summary.append([report.title, report.period])
    for name, value in report.figures.items():
        summary.append([name, value])
    for number, table in enumerate(report.tables, 1):
        sheet = book.create_sheet(f"{number}.{table.title[:24]}".replace("：", "-"))
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append(row)
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
    parts += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.figures.items()]
    parts.append("</dl>")
    for table in report.tables:
        parts.append(f"<section><h2>{escape(table.title)}</h2>")
        if table.chart:
            parts.append(bar_chart(table))
        if table.rows:
            head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
            body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in table.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            parts.append("<p>无。</p>")
        parts.append("</section>")
    return "".join(parts)

