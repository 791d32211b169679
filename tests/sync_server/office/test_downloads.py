"""Office downloads and error pages: RFC 6266 names for every role and format, formula
cells neutralised in CSV and XLSX, numbers as numbers, odd dates answered with a
Chinese page, and office errors as office pages rather than the citizens' JSON."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from sync_server.office.commands import export_records
from sync_server.office.spreadsheet import content_disposition, neutralise
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, login, seed

office = test_office.office  # the same small office world

HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1", "-2+3", "@SUM(A1)", "\tleading tab", "\rcarriage"]


def _today():
    return datetime.now(timezone(timedelta(hours=8))).date()


@pytest.mark.parametrize("role", ["amy", "police", "boss"])
@pytest.mark.parametrize("kind, param", [("weekly", "date"), ("monthly", "month")])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_download_has_an_rfc6266_name_for_every_role(office, role, kind, param, fmt):
    login(office, role)
    value = _today().isoformat() if kind == "weekly" else _today().strftime("%Y-%m")
    response = office.get(f"/office/reports/{kind}", params={param: value, "format": fmt})
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    disposition.encode("latin-1")  # a header must be latin-1, or the server answers 500
    assert 'filename="' in disposition and "filename*=UTF-8''" in disposition
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert name.endswith("." + fmt) and ("周例会材料" if kind == "weekly" else "月例会报告") in name


def test_content_disposition_falls_back_to_ascii():
    header = content_disposition('月例会报告 "11".csv', "monthly-2026-11.csv")
    assert header.startswith('attachment; filename="monthly-2026-11.csv"; filename*=UTF-8\'\'')
    assert unquote(header.split("''", 1)[1]) == '月例会报告 "11".csv'


def test_neutralise_prefixes_formula_triggers_and_keeps_numbers():
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert neutralise("校门口") == "校门口" and neutralise(3) == 3 and neutralise(2.5) == 2.5


def _meeting_item(client, **fields):
    record = seed(client, **fields)
    act(client, record["id"], "accept")
    act(client, record["id"], "assign", department="police", backdate="2020-01-01", track="immediate",
        summary='=HYPERLINK("http://evil.example","点我")')
    return record


def test_weekly_xlsx_never_holds_a_formula_and_counts_are_numbers(office):
    login(office, "amy")
    _meeting_item(office, feeling="\t以制表符开头")
    response = office.get("/office/reports/weekly", params={"date": _today().isoformat(), "format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in texts
    figures = {row[0].value: row[1].value for row in book["概要"].iter_rows(min_row=2)}
    assert figures["超期"] == 1 and isinstance(figures["本周新收"], int)


def test_monthly_xlsx_shares_are_numbers_formatted_as_percent(office):
    login(office, "amy")
    record = _meeting_item(office)
    act(office, record["id"], "close", outcome="resolved")
    response = office.get("/office/reports/monthly", params={"month": _today().strftime("%Y-%m"), "format": "xlsx"})
    summary = load_workbook(io.BytesIO(response.content))["概要"]
    figures = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)}
    assert figures["本月办结"].value == 1
    assert figures["期限内办结占比"].value == 0 and figures["期限内办结占比"].number_format == "0%"


def test_weekly_csv_neutralises_a_field_typed_as_a_formula(office):
    login(office, "amy")
    _meeting_item(office)
    response = office.get("/office/reports/weekly", params={"date": _today().isoformat(), "format": "csv"})
    cells = [c for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for c in row]
    hostile = '=HYPERLINK("http://evil.example","点我")'
    assert "'" + hostile in cells and hostile not in cells


def test_inbox_export_neutralises_citizen_text(office, settings):
    login(office, "amy")
    for text in HOSTILE:
        seed(office, feeling=text, suggestion="-" + text)
    data = export_records(settings.data_dir, settings.registry, with_phone=False)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    feelings = {row[6] for row in rows}
    # The form strips surrounding whitespace, so the tab and CR cases arrive without them.
    assert {"'" + text for text in HOSTILE[:4]} <= feelings and {"leading tab", "carriage"} <= feelings
    assert all(row[7].startswith("'-") for row in rows)


def test_xlsx_text_cells_are_strings_even_with_a_leading_tab():
    from sync_server.office.reports import Report, Table, to_xlsx

    report = Report("周例会材料", "2026-11-23", [Table("事项", ["概要", "条数"], [[text, 7] for text in HOSTILE])])
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).worksheets[1]
    cells = list(sheet.iter_rows(min_row=2))
    # openpyxl's own XML writer turns a CR into a line feed, its lxml one (lxml comes with
    # python-docx) keeps it as &#13;: either way the prefix is what matters.
    assert [row[0].value.replace("\r", "\n") for row in cells] == ["'" + text.replace("\r", "\n") for text in HOSTILE]
    assert {row[0].data_type for row in cells} == {"s"} and {row[1].value for row in cells} == {7}


@pytest.mark.parametrize("query", [
    {"date": "9999-12-31"}, {"date": "0001-01-01"}, {"date": "2026-02-30"}, {"date": "20261123"},
    {"date": "2026-11-23T00:00"}, {"date": "２０２６-11-23"}, {"date": "x" * 5000},
])
def test_an_odd_weekly_date_is_a_chinese_400_page(office, query):
    login(office, "amy")
    response = office.get("/office/reports/weekly", params=query)
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert "日期格式不正确" in response.text


@pytest.mark.parametrize("month", ["2026-13", "9999-12", "2026-1", "2026-11-01", ""])
def test_an_odd_month_is_a_chinese_400_page_or_this_month(office, month):
    login(office, "amy")
    response = office.get("/office/reports/monthly", params={"month": month})
    assert response.status_code == (200 if month == "" else 400)
    assert response.headers["content-type"].startswith("text/html")


def test_an_unknown_office_page_is_a_chinese_office_page(office):
    login(office, "amy")
    response = office.get("/office/no-such-page")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in response.text and "记录仍保存在您的设备上" not in response.text


def test_an_office_server_error_is_a_chinese_office_page(settings, quick_scrypt):
    from starlette.testclient import TestClient

    from sync_server.app import create_app
    from sync_server.store.embedded.accounts import Accounts
    from tests.sync_server.office.test_pages import PASSWORD

    Accounts(settings.data_dir).add("amy", PASSWORD, "staff", "王干事")
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        login(client, "amy")

        def broken(*args, **kwargs):
            raise RuntimeError("disk on fire")

        app.state.readside.page = broken
        response = client.get("/office/records")
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    assert "服务器出错了" in response.text and "记录仍保存在您的设备上" not in response.text


def test_the_meeting_pack_with_phones_shows_a_consented_phone_and_no_other(office):
    # The phone column reads only records stored with a consented phone from disk.
    login(office, "amy")
    with_phone = _meeting_item(office, phone="13912345678", consent=True)
    without = _meeting_item(office, feeling="没有留电话的反映")
    response = office.get("/office/reports/weekly", params={"date": _today().isoformat(), "format": "csv", "phone": "1"})
    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200 and "13912345678" in text
    line = next(row for row in text.splitlines() if without["receipt"] in row)
    assert "139" not in line and with_phone["receipt"] in text


def test_control_characters_in_staff_or_old_citizen_text_do_not_break_the_xlsx():
    # The office does not refuse control characters in a summary or a note, and an old
    # data folder may hold them in a citizen's words; openpyxl refuses such a cell, which
    # turned the weekly XLSX into an error. They are written as visible escapes.
    import io

    import openpyxl

    from sync_server.office.spreadsheet import xlsx_sheet_rows

    book = openpyxl.Workbook()
    xlsx_sheet_rows(book.active, [["概要\x01", "=\x1b[31m", 3]])
    saved = io.BytesIO()
    book.save(saved)
    row = [c.value for c in openpyxl.load_workbook(saved).active[1]]
    assert row == ["概要\\x01", "'=\\x1b[31m", 3]


@pytest.mark.parametrize("kind, param", [("weekly", "date"), ("monthly", "month")])
def test_every_sheet_of_a_report_xlsx_has_the_office_layout(office, kind, param):
    login(office, "amy")
    _meeting_item(office)
    value = _today().isoformat() if kind == "weekly" else _today().strftime("%Y-%m")
    book = load_workbook(io.BytesIO(office.get(f"/office/reports/{kind}", params={param: value, "format": "xlsx"}).content))
    assert len(book.worksheets) > 1
    for sheet in book:
        assert sheet.freeze_panes == "A2" and all(cell.font.b for cell in sheet[1] if cell.value is not None)
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
        assert ("周例会材料" if kind == "weekly" else "月例会报告") in sheet.oddHeader.center.text
        assert sheet.column_dimensions["A"].width > 0
