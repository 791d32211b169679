"""A staff cookie sending odd characters, and a request from another origin: the
meeting pack's spreadsheet still opens, and the office answers with its own page."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, csrf, login, seed

office = test_office.office  # the same small office world


def test_weekly_xlsx_stays_well_formed_when_a_staff_field_holds_a_noncharacter(office):
    # U+FFFE is valid UTF-8 (a byte-swapped BOM from a pasted document) but not an XML character.
    record = seed(office)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局\ufffe", deadline="2020-01-01", track="immediate",
        summary="校门口\ufffe拥堵")
    day = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    response = office.get("/office/reports/weekly", params={"date": day, "format": "xlsx"})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        for name in book.namelist():
            if name.endswith(".xml"):
                ElementTree.fromstring(book.read(name))  # Excel and WPS refuse a file that is not well-formed


def test_a_cross_origin_office_post_gets_a_chinese_office_page_not_json(office):
    record = seed(office)
    login(office, "amy")
    token = csrf(office, "/office/records")
    response = office.post(f"/office/records/{record['id']}/action", data={"csrf": token, "action": "accept"},
                           headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    # Observed on main: application/json {"ok": false, "error": "cross_origin", ...}
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
