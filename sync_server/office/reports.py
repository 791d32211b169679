"""Meeting reports: the weekly meeting pack (周例会) and the monthly report (月例会).

`weekly()` and `monthly()` are pure: the read side's report rows in (`ReportRows`: only
the period's records, what changed since its start, the meeting's flagged items and the
overdue ones, never every triaged record), a `Report` of titled tables out. The same
`Report` renders as printable HTML through Jinja templates (`office/report_body.html`,
its SVG bar charts a macro in `office/charts.html`: no chart library, nothing loaded
from elsewhere), as CSV (UTF-8 with BOM, so Excel and WPS open the Chinese correctly)
and as XLSX (laid out by `workbook`). Phone numbers appear only when asked for by
someone allowed to see them, and only where the citizen consented.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sync_server.office.readside import ReportRows
from sync_server.office.records import Row, local_date
from sync_server.office.spreadsheet import Percent, csv_bytes
from sync_server.office.workbook import Sheet, workbook_bytes
from sync_server.triage import ACTIONS, EVENTS, OUTCOMES, SATISFACTION, STATUSES, SUMMARY_LIMIT

__all__ = ["COLUMN_CLASSES", "OVERDUE_LISTED", "Report", "Table", "monthly", "needs_words", "summary_of", "to_csv", "to_document",
           "to_html", "to_xlsx", "weekly"]

ACTION_LABELS = {**{action: label for action, (_, label) in ACTIONS.items()}, **EVENTS}
# A meeting reads the most overdue matters one by one and the rest as counts by
# department: thousands of rows help nobody at a table, and a sheet of them took
# seconds to write. The inbox's 已超期 filter lists every one.
OVERDUE_LISTED = 20
LONG_OVERDUE_DAYS = 30


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: bool = False  # a bar chart of the last column by the first
    note: str = ""  # sentences under the table (what is left out, definitions), one a line


@dataclass
class Report:
    title: str
    period: str
    tables: list[Table]
    figures: dict[str, object] = field(default_factory=dict)


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
    # One line of at most SUMMARY_LIMIT, even for an entry stored before the office held
    # hand-made forms to that (2,000 characters across lines broke the printed pack).
    written = " ".join((row.triage.get("summary") or "").split())
    if written:
        return written if len(written) <= SUMMARY_LIMIT else written[: SUMMARY_LIMIT - 1] + "…"
    text = " ".join((row.record.get("feeling") or row.record.get("suggestion") or "").split())
    return text[:SUMMARY_LENGTH] + ("…" if len(text) > SUMMARY_LENGTH else "")


def needs_words(row: Row) -> bool:
    """True when the row's summary must come from the stored record: no summary was
    written and the read side holds no words (a sealed record keeps them sealed)."""
    return not (row.triage.get("summary") or "").strip() and not (
        row.record.get("feeling") or row.record.get("suggestion"))


def _changes(row: Row, start: date, end: date) -> str:
    """What happened to the matter in the report's week, in the office's words."""
    done = []
    bound = (start - timedelta(days=1)).isoformat()
    for step in row.triage["history"]:
        if step["at"] >= bound and start <= local_date(step["at"]) <= end:
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


# How the HTML report sets a column's cells (CSV and XLSX ignore it), so that on a phone
# and on A4 no column is squeezed to one character a line: codes, dates and the short
# words of status and sector stay on one line ("nowrap"), names and results keep a few
# characters a line ("name": 不属于职责范围 on one line would push a pack with phones
# off A4), free text a readable width ("content").
COLUMN_CLASSES = {
    **dict.fromkeys(["回执码", "收到日期", "办理期限", "最早期限", "联系电话", "领域", "状态", "评价日期"], "nowrap"),
    **dict.fromkeys(["民情哨", "牵头部门", "办结结果", "群众评价"], "name"),
    **dict.fromkeys(["概要", "本周变化"], "content"),
}
SOLVED = ("closed", "followed_up")


def _overdue_by_department(overdue: list[Row], today: date) -> Table:
    counts: Counter = Counter()
    long: Counter = Counter()
    earliest: dict[str, str] = {}
    for row in overdue:
        lead = row.triage["lead"] or "（未定牵头部门）"
        deadline = row.triage["deadline"]
        counts[lead] += 1
        if (today - date.fromisoformat(deadline)).days > LONG_OVERDUE_DAYS:
            long[lead] += 1
        earliest[lead] = min(earliest.get(lead, deadline), deadline)
    rows = [[lead, earliest[lead], long[lead], n] for lead, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Table("已超期事项：按牵头部门", ["牵头部门", "最早期限", f"超期 {LONG_OVERDUE_DAYS} 天以上", "超期条数"], rows, chart=True)


VERDICT_SOURCES = {"receipt": "凭回执", "phone": "电话回访"}
DISSATISFIED_COLUMNS = ["回执码", "收到日期", "概要", "领域", "民情哨", "牵头部门", "群众评价", "评价日期"]


def _dissatisfied(rows: list[Row]) -> Table:
    """群众不满意: the matters whose citizen judged the outcome 不满意 and staff have not
    yet answered (重新办理 or 维持原处理). Never a phone column, whoever asks: the
    meeting decides what to do, nobody there needs to call anyone from it."""
    cells = []
    for row in rows:
        verdict = row.triage.get("verdict") or {}
        source = VERDICT_SOURCES.get(verdict.get("source", ""), "")
        chosen = SATISFACTION.get(verdict.get("choice", ""), "不满意") + (f"（{source}）" if source else "")
        at = verdict.get("at")
        cells.append([row.record["receipt"], _received(row).isoformat(), summary_of(row), row.sector_name,
                      row.station_name, row.triage.get("lead") or "", chosen, local_date(at).isoformat() if at else ""])
    return Table("群众不满意", DISSATISFIED_COLUMNS, cells,
                 note="群众对办理结果不满意、办公室尚未决定重新办理或维持原处理的事项。本表从不列出电话号码。")


def weekly(sets: ReportRows, day: date, with_phone: bool = False, today: date | None = None,
           prepare: Callable[[list[Row]], list[Row]] | None = None) -> Report:
    """The meeting pack. `with_phone` asks for the phone column; `prepare` gives the
    listed rows their stored records (sealed words opened, consented phones) and is
    called once, with only the rows the pack lists."""
    start, end = _week_of(day)
    today = today or day
    in_week = sets.received
    closed = [r for r in sets.changed if r.triage["status"] in SOLVED and (d := _closed(r)) and start <= d <= end]
    merged = [r for r in closed if r.triage["outcome"] == "merged"]
    # A duplicate merged away is not a matter solved: it never counts as a closure.
    solved = [r for r in closed if r.triage["outcome"] != "merged"]
    flagged = [r for r in sets.weekly if r.triage["status"] in ("assigned", "in_progress")]
    # Most overdue first: the earliest deadline, then the oldest record.
    overdue = sorted(sets.overdue, key=lambda r: (r.triage["deadline"], r.record["received_at"]))
    listed = overdue[:OVERDUE_LISTED]
    newly = [r for r in overdue if start.isoformat() <= r.triage["deadline"] <= end.isoformat()]
    unhappy = list(sets.dissatisfied)
    if prepare is not None:
        opened = {r.id: r for r in prepare(list({r.id: r for r in flagged + listed + solved + unhappy}.values()))}
        flagged, listed, solved, unhappy = ([opened.get(r.id, r) for r in rows]
                                            for rows in (flagged, listed, solved, unhappy))
    columns = _item_columns(with_phone)
    overdue_days = [(today - date.fromisoformat(r.triage["deadline"])).days for r in listed]
    tables = [
        _counts("本周新收：按领域", "领域", Counter(r.sector_name for r in in_week)),
        _counts("本周新收：按民情哨", "民情哨", Counter(r.station_name for r in in_week)),
        Table("提交周例会研究的事项", columns, [_item(r, with_phone, start, end) for r in flagged]),
        _overdue_by_department(overdue, today),
        Table("已超期事项（超期最久的在前）", columns + ["超期天数"],
              [_item(r, with_phone, start, end) + [n] for r, n in zip(listed, overdue_days, strict=True)],
              note=(f"共 {len(overdue)} 项超期，此处列出超期最久的 {len(listed)} 项；全部超期事项请在收件箱中按“已超期”筛选查看。"
                    if len(overdue) > len(listed) else "")),
        Table("本周办结事项", columns + ["办结结果"], [
            _item(r, with_phone, start, end) + [OUTCOMES.get(r.triage["outcome"] or "", "")] for r in solved
        ]),
        _dissatisfied(unhappy),
    ]
    figures = {"本周新收": len(in_week), "周例会事项": len(flagged), "超期": len(overdue), "本周新增超期": len(newly),
               "本周办结": len(solved), "本周合并的重复反映": len(merged), "群众不满意": len(unhappy)}
    return Report("周例会材料", f"{start.isoformat()} 至 {end.isoformat()}", tables, figures)


def _share(part: int, whole: int) -> Percent | str:
    return Percent(part / whole) if whole else "—"


RATING_NOTE = ("提交时满意度是群众在民情哨提交意见时对本领域整治工作的评价，不是对某件事项办理结果的评价；"
               "对办理结果的评价见“办结、回访与满意率”各表。\n"
               "满意率 = （满意 + 基本满意）÷ 评价数。")


def rating_table(rows: list[Row]) -> Table:
    """The form's own rating (提交时满意度, of the campaign), by sector: kept apart from the
    verdicts on the handling, with the same 12345 definition of 满意率."""
    ratings: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r.record["rating"]:
            ratings[r.sector_name][r.record["rating"]] += 1
    lines = []
    for sector in sorted(ratings):
        counted = ratings[sector]
        total = sum(counted.values())
        lines.append([sector, total, counted["satisfied"], counted["fair"], counted["dissatisfied"],
                      _share(counted["satisfied"] + counted["fair"], total)])
    return Table("提交时满意度（群众对整治工作的评价，按领域）", ["领域", "评价数", "满意", "基本满意", "不满意", "满意率"], lines,
                 note=RATING_NOTE)


def monthly(sets: ReportRows, year: int, month: int) -> Report:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    in_month = sets.received
    closed = [r for r in sets.changed if r.triage["status"] in SOLVED and r.triage["outcome"] != "merged"
              and (d := _closed(r)) and first <= d <= last]
    with_deadline = [r for r in closed if r.triage["deadline"]]
    on_time = [r for r in with_deadline if _closed(r).isoformat() <= r.triage["deadline"]]
    days = [(_closed(r) - _received(r)).days for r in closed]
    tables_rating = rating_table(in_month)
    tables = [
        _counts("本月新收：按领域", "领域", Counter(r.sector_name for r in in_month)),
        _counts("本月新收：按民情哨", "民情哨", Counter(r.station_name for r in in_month)),
        _counts("本月新收：按状态", "状态", Counter(r.status_label for r in in_month)),
        tables_rating,
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
        lines += [[line] for line in table.note.splitlines()]
    return lines


def to_csv(report: Report) -> bytes:
    return csv_bytes(_lines(report))


def to_xlsx(report: Report) -> bytes:
    """One sheet for the figures, one per table, each laid out as every office XLSX is."""
    heading = f"{report.title} {report.period}"
    sheets = [Sheet("概要", heading, [report.title, report.period], [[k, v] for k, v in report.figures.items()])]
    for number, table in enumerate(report.tables, 1):
        sheets.append(Sheet(f"{number}.{table.title[:24]}".replace("：", "-"), f"{heading} {table.title}",
                            table.columns, table.rows, table.note.splitlines()))
    return workbook_bytes(sheets)


@functools.cache
def _environment():
    # The same templates and autoescaping as the server's pages (`app.templates`); built
    # on first use, so importing this module has no side effect.
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("sync_server", "templates"), autoescape=select_autoescape(default=True))


def to_html(report: Report) -> str:
    """The report's body (figures, tables, charts); a page template frames it."""
    return _environment().get_template("office/report_body.html").render(report=report, column_classes=COLUMN_CLASSES)


def to_document(report: Report) -> str:
    """A whole printable page of the report, for the command line."""
    return _environment().get_template("office/report_document.html").render(report=report, column_classes=COLUMN_CLASSES)
