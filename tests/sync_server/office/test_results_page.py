"""The 成效 page and the reports' verdict tables over HTTP: who counts which matters,
the chart and its text table, the definitions, and bad dates."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.verdict_figures import DEFINITIONS
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.conftest import make_item, post_batch
from tests.sync_server.office.test_pages import PASSWORD, login
from tests.sync_server.office.test_ratings_page import _dispatched

MONTHLY_TITLE = "办结、回访与满意率（本月）：按牵头部门"


def _verdict(choice: str, source: str = "receipt") -> dict:
    return {"choice": choice, "source": source, "round": 1, "at": "2026-10-10T02:00:00+00:00",
            "first_at": "2026-10-10T02:00:00+00:00", "comment": "", "comment_sealed": None}


@pytest.fixture
def office(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"], department="police")
    accounts.add("boss", PASSWORD, "viewer", "领导")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        items = [make_item(station_id="hebin-primary"), make_item(station_id="rulin-industrial-park")]
        post_batch(client, items)
        state = client.app.state
        # Police: closed, judged 基本满意 by phone. Market: reopened after a 不满意 by receipt.
        police = {**_dispatched("police", closed=True), "verdict": _verdict("fair", "phone"), "calls": 1}
        market = {**_dispatched("market", closed=False), "round": 2, "past_verdicts": [_verdict("dissatisfied")]}
        stored = state.triage.put_many({items[0]["id"]: police, items[1]["id"]: market})
        state.readside.triage_changed(stored)
        yield client


def _table(page: str, title: str) -> str:
    return page.split(title, 1)[1].split("</table>", 1)[0]


def _names(client):
    registry = client.app.state.stations.registry
    return registry.department("police").name, registry.department("market").name


@pytest.mark.parametrize("who", ["amy", "boss"])
def test_staff_and_viewers_count_every_matter_with_the_chart_its_text_table_and_the_definitions(office, who):
    login(office, who)
    page = office.get("/office/results").text
    police, market = _names(office)
    by_department = _table(page, "办结、回访与满意率（本月）：按牵头部门")
    assert police in by_department and market in by_department
    # Two matters with a verdict, one 基本满意: 50 %; one reopened, one 不满意.
    total = by_department.split("合计", 1)[1].split("</tr>", 1)[0]
    assert [cell.split(">")[-1] for cell in total.split("</td>")[:-1]] == ["2", "1", "50%", "1", "100%", "2", "50%", "1", "1"]
    assert '<svg class="chart" role="img" aria-label="近 12 个月收到的事项的满意率与回访率' in page
    assert "逐月数据（按收到事项的月份）" in page
    for sentence in DEFINITIONS:
        assert sentence in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_department_counts_only_the_matters_it_sees(office):
    login(office, "police")
    page = office.get("/office/results").text
    police, market = _names(office)
    by_department = _table(page, "办结、回访与满意率（本月）：按牵头部门")
    assert police in by_department and market not in by_department
    # Its towns' line counts its one matter: market's (in another town) is not there.
    by_town = _table(page, "办结、回访与满意率（本月）：按乡镇")
    assert by_town.count("<tr><th") == 3  # the header row, its one town, and 合计


def test_since_the_start_and_a_week_answer_and_a_bad_date_is_refused_in_chinese(office):
    login(office, "amy")
    assert "办结、回访与满意率（累计）：按民情哨" in office.get("/office/results?span=all").text
    assert "办结、回访与满意率（本周）：按乡镇" in office.get("/office/results?span=week").text
    bad = office.get("/office/results?span=month&month=2026-13")
    assert bad.status_code == 400 and "日期格式不正确" in bad.text


def test_the_monthly_report_carries_the_verdict_tables_in_html_csv_and_xlsx(office):
    login(office, "amy")
    page = office.get("/office/reports/monthly").text
    assert MONTHLY_TITLE in page and "办结、回访与满意率（累计）：按领域" in page
    assert "提交时满意度（群众对整治工作的评价，按领域）" in page
    csv = office.get("/office/reports/monthly?format=csv").content.decode("utf-8-sig")
    assert MONTHLY_TITLE in csv and DEFINITIONS[3] in csv
    book = load_workbook(io.BytesIO(office.get("/office/reports/monthly?format=xlsx").content))
    assert any("办结、回访与满意率" in name for name in book.sheetnames)


def test_the_weekly_pack_carries_the_week_and_since_the_start(office):
    login(office, "police")
    page = office.get("/office/reports/weekly").text
    police, market = _names(office)
    assert police in _table(page, "办结、回访与满意率（本周）：按牵头部门")
    assert market not in _table(page, "办结、回访与满意率（累计）：按牵头部门")
