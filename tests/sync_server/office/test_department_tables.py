"""The figures as report tables: every department listed, definitions under each table,
month-on-month change, and a department account's narrower view."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sync_server.office.department_figures import NO_DEPARTMENT, Figures, Period, Tally
from sync_server.office.department_tables import DEFINITIONS, monthly_tables, score_bars, weekly_tables
from sync_server.office.reports import Report, to_csv, to_html
from sync_server.office.spreadsheet import Percent

REGISTRY = SimpleNamespace(departments=[SimpleNamespace(id="police", name="区公安分局"),
                                        SimpleNamespace(id="market", name="区市场监督管理局"),
                                        SimpleNamespace(id="urban", name="区城市管理局")])
PERIOD = Period.month(2026, 11, date(2026, 12, 1))


def good(**more) -> Tally:
    return Tally(dispatched=4, sign_judged=4, signed_on_time=3, handled=4, handled_closed=2, closed=2,
                 closed_with_deadline=2, closed_on_time=2, verdicts=2, satisfied=2, **more)


def current() -> Figures:
    return Figures(PERIOD, {"police": good(overdue_now=1), "market": Tally(dispatched=1)},
                   {"东城街道": good(), "西城街道": Tally(dispatched=1)})


def previous() -> Figures:
    return Figures(PERIOD.previous(), {"police": Tally(dispatched=2, sign_judged=2, signed_on_time=2)}, {})


def table(tables, start):
    return next(t for t in tables if t.title.startswith(start))


def test_the_department_table_lists_every_department_of_the_registry_with_its_rates():
    rows = table(monthly_tables(current(), previous(), REGISTRY), "承办单位考核：本月按部门").rows
    assert [r[0] for r in rows] == ["区公安分局", "区市场监督管理局", "区城市管理局"]
    assert rows[0][1:5] == [4, Percent(0.75), Percent(0.5), Percent(1.0)]
    assert rows[2][1:5] == [0, "—", "—", "—"]


def test_each_figures_table_carries_its_definitions_one_a_line():
    note = table(monthly_tables(current(), previous(), REGISTRY), "承办单位考核：本月按部门").note
    assert note.splitlines()[: len(DEFINITIONS)] == list(DEFINITIONS.values())
    html = to_html(Report("月例会报告", "2026 年 11 月", monthly_tables(current(), previous(), REGISTRY)))
    assert html.count('<p class="note">') >= len(DEFINITIONS) + 4
    assert "综合得分（百分制）= 及时签收率×20" in html


def test_the_definitions_reach_the_csv_one_a_row():
    csv = to_csv(Report("月例会报告", "2026 年 11 月", monthly_tables(current(), previous(), REGISTRY))).decode("utf-8-sig")
    assert DEFINITIONS["按期办结率"] + "\r\n" in csv


def test_the_ranking_compares_with_the_month_before():
    rows = table(monthly_tables(current(), previous(), REGISTRY), "承办单位排名").rows
    # police: 20*.75 + 30*.5 + 30*1 + 20*1 = 80; last month only its sign rate (100%).
    assert rows == [[1, "区公安分局", 80.0, 100.0, 0, 1]]


def test_the_change_table_gives_points_for_rates_and_counts_for_counts():
    rows = table(monthly_tables(current(), previous(), REGISTRY), "承办单位考核：环比").rows
    police = rows[0]
    assert police[0] == "区公安分局" and police[1] == 2 and str(police[1]) == "+2"
    assert police[2] == -25.0 and str(police[2]) == "-25.0"
    assert police[3] == "—"  # nothing to close last month


def test_a_department_account_reads_its_own_line_and_the_ranking_but_no_town():
    tables = monthly_tables(current(), previous(), REGISTRY, only="market")
    assert [r[0] for r in table(tables, "承办单位考核：本月按部门").rows] == ["区市场监督管理局"]
    assert [r[0] for r in table(tables, "承办单位考核：环比").rows] == ["区市场监督管理局"]
    assert [r[1] for r in table(tables, "承办单位排名").rows] == ["区公安分局"]
    assert not [t for t in tables if "乡镇" in t.title]


def test_matters_without_department_get_a_line_of_their_own():
    figures = Figures(PERIOD, {NO_DEPARTMENT: Tally(dispatched=3)}, {})
    rows = table(monthly_tables(figures, previous(), REGISTRY), "承办单位考核：本月按部门").rows
    assert rows[-1][:2] == ["（未指定承办单位）", 3]


def test_the_towns_are_listed_with_the_same_figures():
    rows = table(monthly_tables(current(), previous(), REGISTRY), "承办单位考核：本月按乡镇").rows
    assert [r[:2] for r in rows] == [["东城街道", 4], ["西城街道", 1]]


def test_the_weekly_pack_lists_only_departments_that_had_something_that_week():
    (week,) = weekly_tables(current(), REGISTRY)
    assert [r[0] for r in week.rows] == ["区公安分局", "区市场监督管理局"]
    assert "本期" not in week.note and "本周内交办或改派" in week.note


def test_the_chart_has_one_bar_a_ranked_department_with_last_months_score():
    assert [(b.name, b.score, b.previous) for b in score_bars(REGISTRY, current(), previous())] == [("区公安分局", 80.0, 100.0)]


def test_no_change_reads_as_zero_without_a_sign():
    from sync_server.office.department_tables import Change, CountChange

    assert (str(CountChange(0)), str(CountChange(-2)), str(Change(0.0)), str(Change(1.25))) == ("0", "-2", "0.0", "+1.2")


def test_a_department_account_without_a_known_department_reads_no_line_at_all():
    from sync_server.office.report_pages import figures_scope
    from sync_server.store.accounts import Account

    unmapped = Account("old", "department", "旧账号", ("public-order",), "", False)
    figures = Figures(PERIOD, {NO_DEPARTMENT: Tally(dispatched=3), "police": good()}, {})
    tables = monthly_tables(figures, previous(), REGISTRY, only=figures_scope(unmapped))
    assert table(tables, "承办单位考核：本月按部门").rows == []
    assert figures_scope(Account("boss", "viewer", "领导", (), "", False)) is None
