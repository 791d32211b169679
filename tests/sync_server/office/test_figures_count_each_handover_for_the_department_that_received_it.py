"""Severity: HIGH. The department figures read who held a matter back through each step's
`before`, but `triage.apply` strips `before` from every step but the last (to save memory).
After 交办 to 区公安分局, 签收, 改派 to 区教育局 and its 签收, the 考核 shows 区公安分局 交办数 0
and 区教育局 交办数 2 with 及时签收率 100%: the police's handover and signing are credited to
education, and the ranking is built on it.
Repro: that sequence, then GET /office/ratings?format=csv."""
import csv
import io

from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import act, dispatch, login, seed

office = test_pages.office  # the same small office world


def _table(client) -> dict[str, list[str]]:
    text = client.get("/office/ratings", params={"format": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r[:2] == ["承办单位", "交办数"])
    table = {}
    for row in rows[start + 1:]:
        if len(row) < 2:
            break
        table[row[0]] = row
    return table


def test_reassigned_matter_counts_one_handover_for_each_department(office):
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "police")
    act(office, park["id"], "sign")
    office.cookies.clear()
    login(office, "amy")
    act(office, park["id"], "reassign", department="education", note="属教育领域")
    office.cookies.clear()
    login(office, "edu")
    act(office, park["id"], "sign")
    office.cookies.clear()
    login(office, "amy")
    table = _table(office)
    assert table["区公安分局"][1] == "1", table["区公安分局"]
    assert table["区教育局"][1] == "1", table["区教育局"]


def test_overdue_ever_counts_a_matter_overdue_before_its_extension(office):
    """Overdue from its deadline 2026-12-01 until the extension granted on the 8th: 期内超期 1,
    even after a later progress note (which strips the grant's `before`)."""
    from datetime import datetime, timedelta, timezone
    today = datetime.now(timezone(timedelta(hours=8))).date()
    past = (today - timedelta(days=3)).isoformat()
    if today.day <= 3:
        return  # needs a past deadline inside the current month
    park = seed(office, station_id="rulin-industrial-park")
    login(office, "amy")
    act(office, park["id"], "accept")
    act(office, park["id"], "assign", department="police", track="immediate", backdate=past)  # fell overdue
    office.cookies.clear()
    login(office, "police")
    act(office, park["id"], "sign")
    act(office, park["id"], "ask_extension", deadline=(today + timedelta(days=20)).isoformat(), reason="需要协调")
    office.cookies.clear()
    login(office, "amy")
    act(office, park["id"], "grant_extension")
    office.cookies.clear()
    login(office, "police")
    act(office, park["id"], "progress", note="已约谈")
    office.cookies.clear()
    login(office, "amy")
    table = _table(office)
    header_index = 9  # 期内超期
    assert table["区公安分局"][header_index] == "1", table["区公安分局"]
