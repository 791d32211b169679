"""A staff member who opens the meeting pack, then asks for it with phone numbers (to
call citizens back), gets the phone column: a pack kept for everyone is not an answer
to a request for phones."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, login, seed

office = test_office.office  # the same small office world


def test_asking_for_phones_after_the_plain_pack_was_built_gets_the_phone_column(office):
    record = seed(office, phone="13800138000", consent=True)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局", backdate="2020-01-01", track="immediate")
    act(office, record["id"], "flag_weekly")
    day = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    office.get("/office/reports/weekly", params={"date": day, "format": "csv"})  # a colleague's plain copy, kept
    with_phones = office.get("/office/reports/weekly", params={"date": day, "format": "csv", "phone": "1"})
    rows = list(csv.reader(io.StringIO(with_phones.content.decode("utf-8-sig"))))
    # Observed on main: the kept plain pack comes back, with no 联系电话 column and no number.
    assert any("联系电话" in row for row in rows)
    assert "13800138000" in with_phones.content.decode("utf-8-sig")


def test_a_pack_with_phones_is_never_kept_for_the_next_plain_request(office):
    record = seed(office, phone="13800138000", consent=True)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局", backdate="2020-01-01", track="immediate")
    day = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    first = office.get("/office/reports/weekly", params={"date": day, "format": "csv", "phone": "1"})
    assert "13800138000" in first.content.decode("utf-8-sig")
    plain = office.get("/office/reports/weekly", params={"date": day, "format": "csv"}).content.decode("utf-8-sig")
    # A plain pack goes to viewers and departments too: a kept phone pack would hand them the numbers.
    assert "13800138000" not in plain and "联系电话" not in plain
