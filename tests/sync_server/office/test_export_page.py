"""The 明细 export (/office/records.xlsx): the list's filter and search, one row per
record, exactly the records the account's list shows, phones for staff alone and only
where the citizen consented, and sealed words only where this session can open them."""

from __future__ import annotations

import io
import re
from html import unescape

from openpyxl import load_workbook

from sync_server.office.record_export import COLUMNS, PHONE_COLUMN
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, dispatch, login, seed
from tests.sync_server.office.test_sealed import CANARY, CANARY_PHONE, canary, sealed_office  # noqa: F401

office = test_office.office  # the same small office world


def _export(client, **query):
    response = client.get("/office/records.xlsx", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["明细"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    return sheet, rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_export_has_one_row_per_listed_record_and_the_office_layout(office):
    first = seed(office, feeling="路口积水严重")
    seed(office, feeling="夜市噪音扰民", station_id="xicheng-night-market")
    login(office, "amy")
    act(office, first["id"], "accept")
    # Both ways of naming the lead: free text before departments were real, an id after.
    act(office, first["id"], "assign", lead="区住房和城乡建设局", department="housing", backdate="2020-01-01",
        track="immediate")
    sheet, header, rows = _export(office)
    assert header == COLUMNS and len(rows) == 2
    assigned = next(r for r in rows if r["回执码"] == first["receipt"])
    assert assigned["感受"] == "路口积水严重" and assigned["状态"] == "已交办" and assigned["牵头部门"] == "区住房和城乡建设局"
    assert assigned["办理方式"] == "立行立改" and assigned["办理期限"] == "2020-01-01" and assigned["是否超期"] == "是"
    assert assigned["民情哨"] and assigned["镇街"] == "西城街道" and assigned["领域"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:N{len(rows) + 1}"
    assert sheet.page_setup.orientation == "landscape" and "民情明细" in sheet.oddHeader.center.text


def test_the_export_keeps_the_lists_filter_and_search(office):
    wet = seed(office, feeling="路口积水严重")
    seed(office, feeling="夜市噪音扰民")
    accepted = seed(office, feeling="路口积水又来了")
    login(office, "amy")
    act(office, accepted["id"], "accept")
    assert {r["回执码"] for r in _export(office, q="积水")[2]} == {wet["receipt"], accepted["receipt"]}
    assert [r["回执码"] for r in _export(office, q="积水", status="accepted")[2]] == [accepted["receipt"]]
    assert _export(office, status="declined")[2] == []


def test_the_export_reaches_past_the_lists_first_page(office):
    for n in range(30):
        seed(office, feeling=f"第{n}条反映")
    login(office, "amy")
    assert len(_export(office, page="2")[2]) == 30


def test_a_department_exports_only_what_its_list_shows(office):
    school = seed(office, feeling="校门口拥堵")  # hebin-primary: education-health
    seed(office, feeling="校门口没人管")  # its sector, never dispatched to it
    market = seed(office, feeling="夜市噪音扰民", station_id="xicheng-night-market")  # public-order
    dispatch(office, school["id"], "education")
    dispatch(office, market["id"], "police")
    login(office, "edu")
    rows = _export(office)[2]
    assert [r["回执码"] for r in rows] == [school["receipt"]]
    assert "夜市噪音扰民" not in str(rows) and "没人管" not in str(rows)
    assert _export(office, sector="public-order")[2] == []


def test_phones_only_for_staff_who_ask_and_only_where_the_citizen_consented(office):
    yes = seed(office, phone="13912345678", consent=True)
    no = seed(office)  # the form refuses a phone without consent: none stored
    login(office, "amy")
    header, rows = _export(office)[1:]
    assert PHONE_COLUMN not in header and "139" not in str(rows)
    header, rows = _export(office, phone="1")[1:]
    phones = {r["回执码"]: r[PHONE_COLUMN] for r in rows}
    assert header[-1] == PHONE_COLUMN and phones[yes["receipt"]] == "13912345678" and not phones[no["receipt"]]
    login(office, "edu")
    header, rows = _export(office, phone="1")[1:]
    assert PHONE_COLUMN not in header and "13912345678" not in str(rows)


def test_the_list_links_to_the_export_with_its_filter_and_never_a_phone(office):
    seed(office, phone="13912345678", consent=True)
    login(office, "amy")
    page = office.get("/office/records", params={"status": "received", "q": "校门口", "page": "1"}).text
    links = [unescape(h) for h in re.findall(r'href="(/office/records\.xlsx[^"]*)"', page)]
    assert links and all("status=received" in h and "page=" not in h and "139" not in h for h in links)
    assert "导出明细" in page and any("phone=1" in h for h in links)
    login(office, "edu")
    links = re.findall(r'href="(/office/records\.xlsx[^"]*)"', office.get("/office/records").text)
    assert links and not any("phone=1" in h for h in links)


def test_a_viewer_or_a_stranger_gets_no_export(office):
    seed(office)
    assert office.get("/office/records.xlsx", follow_redirects=False).status_code == 303
    login(office, "boss")
    assert office.get("/office/records.xlsx").status_code == 403


def test_sealed_words_are_exported_only_where_this_session_opens_them(sealed_office, canary):  # noqa: F811
    login(sealed_office, "amy")
    rows = _export(sealed_office, phone="1")[2]
    assert rows[0]["感受"] == CANARY and rows[0][PHONE_COLUMN] == CANARY_PHONE
    login(sealed_office, "edu")
    assert _export(sealed_office)[2][0]["感受"] == CANARY
    login(sealed_office, "police")
    assert _export(sealed_office)[2] == []
    # Staff without keys list the record but cannot open it: its words stay sealed.
    login(sealed_office, "nokeys")
    rows = _export(sealed_office, phone="1")[2]
    assert len(rows) == 1 and "已加密" in rows[0]["感受"] and CANARY not in str(rows) and CANARY_PHONE not in str(rows)


def test_citizen_text_never_becomes_a_formula_in_the_export(office):
    from tests.sync_server.office.test_downloads import HOSTILE

    for text in HOSTILE:
        seed(office, feeling=text, suggestion="<b>&amp;</b>")
    login(office, "amy")
    sheet, _, rows = _export(office)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert {"'" + text for text in HOSTILE[:4]} <= {r["感受"] for r in rows}
    assert {r["建议"] for r in rows} == {"<b>&amp;</b>"}
