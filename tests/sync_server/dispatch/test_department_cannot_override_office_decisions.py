"""Severity: MEDIUM. A lead department account can (1) 撤出周例会 a matter the office flagged
for the weekly meeting (docs/accounts.md grants it only to *flag* one), hiding its own
matter from the 周例会 pack, and (2) post action=reply on a matter the office has already
审核办结, replacing the public reply the office approved with its own words, which the
citizen then reads on 查询进度: the 审核 of the proposed public reply is bypassed.
Repro: police POST /office/records/<id>/action action=unflag_weekly (or action=reply on a closed matter) -> 303, applied."""
from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import act, dispatch, login, seed

office = test_pages.office  # the same small office world


def test_department_cannot_take_a_matter_off_the_weekly_meeting(office):
    park = seed(office, station_id="rulin-industrial-park", feeling="园区夜间聚集")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    act(office, park["id"], "flag_weekly")
    office.cookies.clear()
    login(office, "police")
    response = act(office, park["id"], "unflag_weekly")
    office.cookies.clear()
    login(office, "amy")
    page = office.get(f"/office/records/{park['id']}").text
    assert "已提交周例会" in page, response.headers["location"]  # still flagged for the meeting


def test_department_cannot_rewrite_the_public_reply_the_office_approved(office):
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "police")
    act(office, park["id"], "sign")
    act(office, park["id"], "submit", outcome="resolved", result="已处置", public_reply="部门拟写的答复")
    office.cookies.clear()
    login(office, "amy")
    act(office, park["id"], "approve", public_reply="办公室审定的答复")
    office.cookies.clear()
    login(office, "police")
    response = act(office, park["id"], "reply", public_reply="未经审核的部门答复")
    office.cookies.clear()
    login(office, "amy")
    page = office.get(f"/office/records/{park['id']}").text
    assert "未经审核的部门答复" not in page, response.headers["location"]
