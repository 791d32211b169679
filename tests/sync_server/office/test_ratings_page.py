"""The 考核 page over HTTP: who reads which lines, the chart, the downloads, bad dates,
and the monthly report carrying the same tables."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.department_tables import DEFINITIONS, unit_name
from sync_server.store.embedded.accounts import Accounts
from sync_server.triage import new_entry
from tests.sync_server.conftest import make_item, post_batch
from tests.sync_server.office.test_pages import PASSWORD, login

OCTOBER = "2026-10"


def _at(day: int, hour: int = 2) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:00:00+00:00"


def _dispatched(department: str, closed: bool) -> dict:
    history = [
        {"at": _at(2), "by": "amy", "action": "assign", "from": "accepted", "to": "assigned", "note": "",
         "department": department, "before": {"department": "", "sign_due": None, "deadline": None}},
        {"at": _at(2, 5), "by": department, "action": "sign", "from": "assigned", "to": "in_progress", "note": "",
         "before": {"signed_at": None}},
    ]
    if closed:
        history.append({"at": _at(9), "by": "amy", "action": "close", "from": "in_progress", "to": "closed", "note": ""})
    return {**new_entry(_at(1)), "status": "closed" if closed else "in_progress", "department": department,
            "deadline": "2026-10-20", "sign_due": _at(3), "updated_at": history[-1]["at"],
            "closed_at": _at(9) if closed else None, "outcome": "resolved" if closed else None, "history": history}


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
        stored = state.triage.put_many({items[0]["id"]: _dispatched("police", closed=True),
                                        items[1]["id"]: _dispatched("market", closed=False)})
        state.readside.triage_changed(stored)
        yield client


def _names(client):
    registry = client.app.state.stations.registry
    return unit_name(registry, "police"), unit_name(registry, "market")


def test_staff_read_every_department_the_towns_the_ranking_and_its_chart(office):
    login(office, "amy")
    page = office.get(f"/office/ratings?month={OCTOBER}")
    assert page.status_code == 200
    police, market = _names(office)
    assert police in page.text and market in page.text
    assert "承办单位考核：本月按乡镇（街道）" in page.text and "西城街道" in page.text and "儒林镇" in page.text
    assert '<svg class="chart" role="img" aria-label="各承办单位综合得分' in page.text
    assert DEFINITIONS["按期办结率"] in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_department_reads_its_own_line_and_the_ranking_only(office):
    login(office, "police")
    page = office.get(f"/office/ratings?month={OCTOBER}").text
    police, market = _names(office)
    own = page.split("承办单位考核：本月按部门", 1)[1].split("</table>", 1)[0]
    assert police in own and market not in own
    ranking = page.split("承办单位排名", 1)[1].split("</table>", 1)[0]
    assert police in ranking and market in ranking
    assert "乡镇" not in page.split("<h1>", 1)[1].split("承办单位排名", 1)[1]


def test_a_viewer_reads_the_ratings(office):
    login(office, "boss")
    assert office.get(f"/office/ratings?month={OCTOBER}").status_code == 200


def test_a_bad_month_is_a_sentence_not_an_error(office):
    login(office, "amy")
    for query in ("month=2026-13", "week=yesterday", "month=9999-01", "format=pdf"):
        page = office.get(f"/office/ratings?{query}")
        assert page.status_code == 400 and ("日期格式不正确" in page.text or "没有这种格式" in page.text)


@pytest.mark.parametrize("path", [f"/office/ratings?month={OCTOBER}&format=xlsx",
                                  f"/office/reports/monthly?month={OCTOBER}&format=xlsx"])
def test_the_spreadsheets_carry_the_department_table_and_its_definitions(office, path):
    login(office, "amy")
    book = load_workbook(io.BytesIO(office.get(path).content))
    sheet = next(book[name] for name in book.sheetnames if "本月按部门" in name)
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "按期办结率" in cells and DEFINITIONS["办结率"] in cells
    police, _ = _names(office)
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == police)
    assert row[1:5] == (1, 1.0, 1.0, 1.0)  # dispatched, signed in time, closed, closed on time


def test_the_monthly_report_page_and_csv_carry_the_figures(office):
    login(office, "amy")
    html = office.get(f"/office/reports/monthly?month={OCTOBER}").text
    assert "承办单位排名：本月" in html and DEFINITIONS["及时签收率"] in html
    csv = office.get(f"/office/reports/monthly?month={OCTOBER}&format=csv").content.decode("utf-8-sig")
    assert "承办单位考核：本月按部门" in csv and DEFINITIONS["满意率"] in csv


def test_the_weekly_pack_lists_the_departments_that_had_something_that_week(office):
    login(office, "amy")
    police, market = _names(office)
    dispatched = office.get("/office/reports/weekly?date=2026-10-02").text.split("本周承办单位情况", 1)[1]
    assert police in dispatched and market in dispatched
    closed = office.get("/office/reports/weekly?date=2026-10-07").text.split("本周承办单位情况", 1)[1]
    assert police in closed and market not in closed


def test_the_ratings_page_is_kept_until_something_changes(office):
    login(office, "amy")
    first = office.get(f"/office/ratings?month={OCTOBER}&format=csv").content
    kept = office.app.state.report_cache._entries
    assert any(key[0] == "ratings" for key in kept)
    assert office.get(f"/office/ratings?month={OCTOBER}&format=csv").content == first


def test_a_departments_monthly_report_shows_its_own_line_and_no_town(office):
    login(office, "police")
    csv = office.get(f"/office/reports/monthly?month={OCTOBER}&format=csv").content.decode("utf-8-sig")
    police, market = _names(office)
    own = csv.split("承办单位考核：本月按部门", 1)[1].split("承办单位排名", 1)[0]
    assert police in own and market not in own
    # The 考核's town table mixes every department's matters; the 成效 tables by town
    # count only the department's own (tests/sync_server/office/test_results_page.py).
    assert "承办单位考核：本月按乡镇" not in csv
