"""Meeting reports against a fixture inbox whose figures are computed by hand below."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.reports import Report, Table, monthly, to_csv, to_html, to_xlsx, weekly
from sync_server.triage import new_entry


def _record(rid, station, received_at, rating, phone=None):
    return {"id": rid, "station_id": station, "received_at": received_at, "created_at": received_at, "rating": rating,
            "feeling": f"{rid} 的感受", "suggestion": "", "phone": phone, "consent": phone is not None,
            "receipt": f"R{rid}", "flags": []}


def _entry(received_at, **changes):
    return {**new_entry(received_at), **changes}


TODAY = date(2026, 11, 25)


@pytest.fixture
def office_readside(sample_registry):
    # Times are UTC; the office counts days in China time (UTC+8).
    records = [
        _record("A", "hebin-primary", "2026-11-24T02:00:00+00:00", "satisfied", phone="13800000000"),  # CN 11-24
        _record("B", "hebin-primary", "2026-11-23T17:00:00+00:00", "dissatisfied"),  # CN 11-24 01:00
        _record("C", "rulin-industrial-park", "2026-11-22T15:00:00+00:00", "fair"),  # CN 11-22: last week
        _record("D", "jintan-east-bus", "2026-11-29T16:30:00+00:00", None),  # CN 11-30: next week
        _record("E", "rulin-industrial-park", "2026-10-31T17:00:00+00:00", "satisfied"),  # CN 11-01
    ]
    triage = {
        "A": _entry("", status="followed_up", outcome="resolved", deadline="2026-11-30", lead="区教育局",
                    closed_at="2026-11-26T03:00:00+00:00", satisfaction_after="satisfied", updated_at="2026-11-27T03:00:00+00:00"),
        "B": _entry("", status="in_progress", weekly=True, deadline="2026-11-20", lead="区教育局",
                    updated_at="2026-11-24T03:00:00+00:00"),
        "C": _entry("", status="closed", outcome="partly", deadline="2026-11-24", lead="区公安分局",
                    closed_at="2026-11-25T03:00:00+00:00", updated_at="2026-11-25T03:00:00+00:00"),
        "E": _entry("", status="followed_up", outcome="resolved", deadline="2026-11-15", lead="区公安分局",
                    closed_at="2026-11-10T03:00:00+00:00", satisfaction_after="satisfied", updated_at="2026-11-12T03:00:00+00:00"),
    }
    return MemoryReadSide(records, triage)


@pytest.fixture
def week(office_readside, sample_registry):
    return office_readside.report_sets(None, date(2026, 11, 23), date(2026, 11, 29), sample_registry, TODAY)


@pytest.fixture
def month(office_readside, sample_registry):
    return office_readside.report_sets(None, date(2026, 11, 1), date(2026, 11, 30), sample_registry, TODAY)


def _table(report, title):
    return next(t for t in report.tables if t.title == title)


def test_weekly_pack_matches_the_hand_count(week):
    report = weekly(week, TODAY)
    assert report.period == "2026-11-23 至 2026-11-29"
    assert report.figures == {"本周新收": 2, "周例会事项": 1, "超期": 1, "本周新增超期": 0, "本周办结": 2,
                              "本周合并的重复反映": 0, "群众不满意": 0}
    assert _table(report, "本周新收：按领域").rows == [["教育卫生", 2]]
    assert _table(report, "本周新收：按民情哨").rows == [["金坛区河滨小学", 2]]
    assert [r[0] for r in _table(report, "提交周例会研究的事项").rows] == ["RB"]
    assert _table(report, "已超期事项：按牵头部门").rows == [["区教育局", "2026-11-20", 0, 1]]
    assert [(r[0], r[5], r[-1]) for r in _table(report, "已超期事项（超期最久的在前）").rows] == [("RB", "区教育局", 5)]
    assert sorted((r[0], r[-1]) for r in _table(report, "本周办结事项").rows) == [("RA", "已解决"), ("RC", "部分解决")]


def test_monthly_report_matches_the_hand_count(month):
    report = monthly(month, 2026, 11)
    # Closed in November: A (2 days, on time), C (3 days, late), E (9 days, on time).
    assert report.figures == {"本月新收": 5, "本月办结": 3, "期限内办结占比": pytest.approx(2 / 3), "办结天数中位数（天）": 3}
    assert str(report.figures["期限内办结占比"]) == "67%"
    assert _table(report, "本月新收：按领域").rows == [["教育卫生", 2], ["社会治安", 2], ["交通运输", 1]]
    assert sorted(_table(report, "本月新收：按状态").rows) == [["办理中", 1], ["已办结", 1], ["已回访", 2], ["已收到", 1]]
    # The form's own rating, apart from the verdicts: 基本满意 counts as satisfied (C in 社会治安).
    assert [[str(c) for c in r] for r in _table(report, "提交时满意度（群众对整治工作的评价，按领域）").rows] == [
        ["教育卫生", "2", "1", "0", "1", "50%"],
        ["社会治安", "2", "1", "1", "0", "100%"],
    ]
    assert not [t for t in report.tables if "回访满意" in t.columns]


def test_phone_numbers_stay_out_of_reports_unless_asked_for(week):
    def stored(rows):  # what the server reads from disk for the rows the pack lists
        return [dataclasses.replace(r, record={**r.record, "phone": "13800000000", "consent": True}) for r in rows]

    assert "13800000000" not in to_csv(weekly(week, TODAY, prepare=stored)).decode("utf-8-sig")
    assert "13800000000" in to_csv(weekly(week, TODAY, with_phone=True, prepare=stored)).decode("utf-8-sig")


def test_csv_starts_with_a_bom_and_holds_correct_chinese(month):
    data = to_csv(monthly(month, 2026, 11))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "月例会报告,2026 年 11 月"
    assert "教育卫生,2" in text and "期限内办结占比,67%" in text


def test_xlsx_opens_with_one_sheet_per_table(week):
    book = load_workbook(io.BytesIO(to_xlsx(weekly(week, TODAY))))
    assert book.sheetnames[0] == "概要" and len(book.sheetnames) == 8
    sheet = book[book.sheetnames[1]]
    assert [c.value for c in sheet[1]] == ["领域", "条数"] and [c.value for c in sheet[2]] == ["教育卫生", 2]


def test_html_report_draws_its_charts_as_inline_svg_and_nothing_from_elsewhere(month):
    html = to_html(monthly(month, 2026, 11))
    assert html.count("<svg") == 3 and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_html_report_escapes_hostile_names_in_tables_figures_and_charts():
    hostile = '<script>alert(1)</script>"&'
    table = Table(hostile, [hostile, "条数"], [[hostile, 3], ["正常", 1]], chart=True)
    html = to_html(Report("月例会报告", "2026 年 11 月", [table], {hostile: hostile}))
    assert "<script>" not in html
    escaped = html.replace("&quot;", "&#34;")  # either spelling of an escaped quote
    # title, column, cell, figure name and value, chart label and the chart's aria-label
    assert escaped.count("&lt;script&gt;alert(1)&lt;/script&gt;&#34;&amp;") >= 7
    assert 'font-size="13">&lt;script&gt;' in html  # the chart's own label, drawn by its macro


def test_the_pack_counts_overdue_by_department_and_lists_the_most_overdue(sample_registry):
    records, triage = [], {}
    for n in range(25):
        rid = f"O{n:02d}"
        records.append(_record(rid, "jintan-east-bus", "2026-09-01T02:00:00+00:00", None))
        # Deadlines three days apart, from 2026-11-13 (n=0) back to 2026-09-01 (n=24).
        deadline = date.fromordinal(date(2026, 9, 1).toordinal() + 3 * (24 - n)).isoformat()
        triage[rid] = _entry("2026-09-02T02:00:00+00:00", status="in_progress", deadline=deadline,
                             lead="区公安分局" if n % 5 else "区城管局", updated_at="2026-09-02T02:00:00+00:00")
    records.append(_record("M", "jintan-east-bus", "2026-11-23T02:00:00+00:00", None))
    triage["M"] = _entry("", status="closed", outcome="merged", merged_into="O00",
                         closed_at="2026-11-24T03:00:00+00:00", updated_at="2026-11-24T03:00:00+00:00")
    sets = MemoryReadSide(records, triage).report_sets(None, date(2026, 11, 23), date(2026, 11, 29), sample_registry, TODAY)
    report = weekly(sets, TODAY)
    listed = _table(report, "已超期事项（超期最久的在前）")
    assert len(listed.rows) == 20 and "共 25 项超期" in listed.note
    deadlines = [r[6] for r in listed.rows]
    assert deadlines == sorted(deadlines) and deadlines[0] == "2026-09-01"
    assert listed.rows[0][-1] == (TODAY - date(2026, 9, 1)).days
    by_department = {r[0]: r[1:] for r in _table(report, "已超期事项：按牵头部门").rows}
    late = {lead: sum(1 for e in triage.values() if e["lead"] == lead and e["deadline"] and
                      (TODAY - date.fromisoformat(e["deadline"])).days > 30) for lead in ("区公安分局", "区城管局")}
    assert late["区城管局"] == 3 and by_department == {"区公安分局": ["2026-09-01", late["区公安分局"], 20],  # n = 24
                             "区城管局": ["2026-09-13", late["区城管局"], 5]}  # n = 20
    # The merged duplicate is counted apart, never as a closure.
    assert report.figures["本周合并的重复反映"] == 1 and report.figures["本周办结"] == 0
    assert _table(report, "本周办结事项").rows == []
    assert "共 25 项超期" in to_html(report) and "共 25 项超期" in to_csv(report).decode("utf-8-sig")


def test_every_report_cell_is_isolated_so_direction_marks_reorder_nothing_outside_it():
    # '\u200f100\u200f-\u200f900' reads "900-100" by itself; isolated, its marks cannot move
    # the cells, the ellipsis or the figures around it.
    marked = "\u200f100\u200f-\u200f900"
    report = Report("周报", "本周", [Table("摘要", ["回执码", "摘要"], [["AB12", marked]])])
    html = to_html(report)
    # A cell is a paragraph of its own; dir="auto" gives it the direction of its own text.
    cells = re.findall(r"<td[^>]*>", html)
    assert f'<td dir="auto">{marked}</td>' in html and len(cells) == 2 and all('dir="auto"' in c for c in cells)


def _unhappy_side(sample_registry):
    """Two matters the citizens judged 不满意 (one by receipt, one by phone, with a
    phone on file), one whose 不满意 staff already answered (flag cleared)."""
    records = [_record("U", "hebin-primary", "2026-11-02T02:00:00+00:00", "satisfied", phone="13900000001"),
               _record("P", "rulin-industrial-park", "2026-11-03T02:00:00+00:00", "fair"),
               _record("K", "rulin-industrial-park", "2026-11-04T02:00:00+00:00", "fair")]
    verdict = {"choice": "dissatisfied", "source": "receipt", "round": 1, "at": "2026-11-24T03:00:00+00:00",
               "first_at": "2026-11-24T03:00:00+00:00", "comment": "", "comment_sealed": None}
    triage = {
        "U": _entry("", status="closed", outcome="resolved", lead="区教育局", closed_at="2026-11-20T03:00:00+00:00",
                    updated_at="2026-11-24T03:00:00+00:00", dissatisfied=True, verdict=verdict),
        "P": _entry("", status="closed", outcome="partly", lead="区公安分局", closed_at="2026-11-20T03:00:00+00:00",
                    updated_at="2026-11-01T03:00:00+00:00", dissatisfied=True, calls=2,
                    verdict={**verdict, "source": "phone"}),
        "K": _entry("", status="closed", outcome="partly", lead="区公安分局", closed_at="2026-11-20T03:00:00+00:00",
                    updated_at="2026-11-24T03:00:00+00:00", dissatisfied=False, verdict=verdict,
                    maintained={"reason": "已按规定处理", "at": "2026-11-25T03:00:00+00:00", "round": 1}),
    }
    side = MemoryReadSide(records, triage)
    return side.report_sets(None, date(2026, 11, 23), date(2026, 11, 29), sample_registry, TODAY)


def test_the_weekly_pack_lists_the_matters_flagged_dissatisfied_with_sector_department_and_choice(sample_registry):
    report = weekly(_unhappy_side(sample_registry), TODAY, with_phone=True)
    table = _table(report, "群众不满意")
    assert [row[0] for row in table.rows] == ["RP", "RU"]  # the newest record first, like every list
    by_code = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert by_code["RU"]["领域"] and by_code["RU"]["牵头部门"] == "区教育局"
    assert by_code["RU"]["群众评价"] == "不满意（凭回执）" and by_code["RP"]["群众评价"] == "不满意（电话回访）"
    assert report.figures["群众不满意"] == 2


def test_the_dissatisfied_section_never_shows_a_phone_even_when_phones_are_asked_for(sample_registry):
    sets = _unhappy_side(sample_registry)

    def stored(rows):
        return [dataclasses.replace(r, record={**r.record, "phone": "13900000001", "consent": True}) for r in rows]

    report = weekly(sets, TODAY, with_phone=True, prepare=stored)
    table = _table(report, "群众不满意")
    assert "联系电话" not in table.columns
    assert "13900000001" not in repr(table.rows)
