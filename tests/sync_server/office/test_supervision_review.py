"""Findings of the outside review on 督办单: 撤回 and 作废 free the matter, a sheet goes to the
department holding the matter, and a closed matter answers its sheet."""
from datetime import datetime, timedelta, timezone

from tests.sync_server.office.test_pages import act, csrf, dispatch, login, office, seed  # noqa: F401 - the fixture


def _supervise(client, record_id, requirements):
    token = csrf(client, f"/office/records/{record_id}")
    return client.post(f"/office/records/{record_id}/supervise", data={"csrf": token, "requirements": requirements},
                       follow_redirects=False)


def test_undone_supervision_leaves_no_live_sheet(office):  # noqa: F811
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    sheet_url = _supervise(office, park["id"], "第一次督办要求").headers["location"].split("?")[0]
    undone = act(office, park["id"], "undo")
    assert "error=" not in undone.headers["location"], undone.headers["location"]
    letter = office.get(sheet_url).text
    assert "已作废" in letter  # the sheet of a withdrawn 督办 is no longer a live demand on the department


def test_second_supervision_after_undo_carries_the_new_requirements(office):  # noqa: F811
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    _supervise(office, park["id"], "第一次督办要求")
    act(office, park["id"], "undo")
    second = _supervise(office, park["id"], "第二次督办要求：三日内报结果")
    page = office.get(second.headers["location"].split("?")[0]).text
    assert "第二次督办要求：三日内报结果" in page


def test_supervision_after_reassign_is_addressed_to_the_new_department(office):  # noqa: F811
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    _supervise(office, park["id"], "第一次督办")
    assert "error=" not in act(office, park["id"], "undo").headers["location"]
    act(office, park["id"], "reassign", department="education", note="属教育领域")
    sheet = _supervise(office, park["id"], "对区教育局督办").headers["location"].split("?")[0]
    office.cookies.clear()
    login(office, "edu")
    assert office.get(sheet).status_code == 200  # the department supervised reads its 督办单
    office.cookies.clear()
    login(office, "police")
    assert office.get(sheet).status_code == 404  # the old one does not


def test_supervise_again_after_the_sheet_is_voided(office):  # noqa: F811
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    first = office.post(f"/office/records/{park['id']}/supervise",
                        data={"csrf": csrf(office, f"/office/records/{park['id']}"), "requirements": "写错了的要求"},
                        follow_redirects=False)
    sheet = first.headers["location"].split("?")[0]
    voided = office.post(f"{sheet}/void", data={"csrf": csrf(office, sheet), "reason": "要求写错，作废重发"},
                         follow_redirects=False)
    assert voided.status_code == 303
    again = office.post(f"/office/records/{park['id']}/supervise",
                        data={"csrf": csrf(office, f"/office/records/{park['id']}"), "requirements": "正确的要求"},
                        follow_redirects=False)
    assert again.status_code == 303, again.text[-600:]
    assert again.headers["location"].split("?")[0] != sheet


def test_closed_matter_sheet_is_not_overdue(office):  # noqa: F811
    yesterday = (datetime.now(timezone(timedelta(hours=8))).date() - timedelta(days=1)).isoformat()
    park = seed(office, station_id="rulin-industrial-park")
    login(office, "amy")
    act(office, park["id"], "accept")
    act(office, park["id"], "assign", department="police", track="immediate", backdate=yesterday)  # now overdue
    sheet = office.post(f"/office/records/{park['id']}/supervise",
                        data={"csrf": csrf(office, f"/office/records/{park['id']}"), "requirements": "限期办结"},
                        follow_redirects=False).headers["location"].split("?")[0]
    office.cookies.clear()
    login(office, "police")
    act(office, park["id"], "sign")
    act(office, park["id"], "submit", outcome="resolved", result="已处置", public_reply="已处置完毕")
    office.cookies.clear()
    login(office, "amy")
    act(office, park["id"], "approve")
    page = office.get(sheet).text
    assert 'data-state="overdue"' not in page
    listing = office.get("/office/letters", params={"kind": "supervision", "state": "overdue"}).text
    assert 'data-state="overdue"' not in listing


