"""The office pages: log-in, each role's view, CSRF, the lifecycle over HTTP, merging,
hostile text shown as text, and what the citizen's look-up may show."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.record_pages import ASK_AGAIN
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.conftest import make_item, post_batch

PASSWORD = "correct-horse-battery"


@pytest.fixture
def office(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"])
    accounts.add("edu", PASSWORD, "department", "区教育局", sectors=["education-health"])
    accounts.add("boss", PASSWORD, "viewer", "领导")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/office/login")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return client.post("/office/login", data={"name": name, "password": password, "token": token}, follow_redirects=False)


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def act(client, record_id: str, action: str, **fields):
    """An action as staff take it: the second, confirming step included where there is one."""
    if action in ASK_AGAIN:
        fields.setdefault("confirm", "yes")
    if action == "decline":
        fields.setdefault("public_reply", "感谢您的反映。")
    backdate = fields.pop("backdate", None)
    token = csrf(client, "/office/records")
    response = client.post(f"/office/records/{record_id}/action", data={"csrf": token, "action": action, **fields},
                           follow_redirects=False)
    if backdate:
        overdue_since(getattr(client, "app_state", None) or client.app.state, record_id, backdate)
    return response


def overdue_since(state, record_id: str, deadline: str) -> None:
    """A past deadline written straight to the triage log: the pages refuse one (a
    department never receives a matter overdue on arrival), yet matters fall overdue."""
    from datetime import datetime, timezone

    row = state.readside.row(record_id, state.stations.registry, datetime.now(timezone.utc).date())
    state.readside.triage_changed(state.triage.put_many({record_id: {**row.triage, "deadline": deadline}}))


def dispatch(client, record_id: str, department: str, **fields) -> None:
    """受理 and 交办 by staff (amy), then logged out: the record is the department's."""
    client.cookies.clear()
    login(client, "amy")
    act(client, record_id, "accept")
    response = act(client, record_id, "assign", department=department, track="immediate", **fields)
    assert "error=" not in response.headers["location"], response.headers["location"]
    client.cookies.clear()


def dispatch_in_store(state, record_id: str, department: str) -> None:
    """交办 written straight to the triage log, leaving every session as it was."""
    from datetime import datetime, timezone

    from sync_server.triage import apply, new_entry

    row = state.readside.row(record_id, state.stations.registry, datetime.now(timezone.utc).date())
    entry = row.triage if row.triage["history"] else new_entry(row.record["received_at"])
    now = datetime.now(timezone.utc)
    entry = apply(apply(entry, "accept", {}, "amy", now), "assign", {"department": department, "track": "immediate"},
                  "amy", now, registry=state.stations.registry)
    state.readside.triage_changed(state.triage.put_many({record_id: entry}))


def status_of(client, record_id: str) -> str:
    """The status the record page shows in its 状态 row (not a word anywhere in the history)."""
    page = client.get(f"/office/records/{record_id}").text
    return re.search(r"<tr><th>状态</th><td>([^<\s]+)", page).group(1)


def seed(client, **fields) -> dict:
    item = make_item(**fields)
    [result] = post_batch(client, [item]).json()["results"]
    return {**item, "receipt": result["receipt"]}


def test_nothing_is_visible_without_logging_in(office):
    for path in ("/office/", "/office/records", "/office/reports", "/office/reports/weekly"):
        response = office.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/office/login")


def test_wrong_password_is_refused_and_repeated_failures_make_that_address_wait(office):
    assert login(office, "amy", "wrong-password-1").status_code == 401
    for _ in range(4):
        login(office, "amy", "wrong-password-1")
    locked = login(office, "amy", PASSWORD)
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text and "秒后再试" in locked.text


def test_session_cookie_is_httponly_and_samesite(office):
    response = login(office, "amy")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "mq_office=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_disabled_user_cannot_log_in(office, settings):
    Accounts(settings.data_dir).disable("edu")
    assert login(office, "edu").status_code == 401


def test_post_without_the_csrf_token_is_refused(office):
    record = seed(office)
    login(office, "amy")
    response = office.post(f"/office/records/{record['id']}/action", data={"action": "accept", "csrf": "forged"})
    assert response.status_code == 403
    assert status_of(office, record["id"]) == "已收到"


def test_staff_walks_a_record_through_its_lifecycle_with_history(office):
    record = seed(office, phone="13800138000", consent=True)  # called back at the end
    login(office, "amy")
    assert act(office, record["id"], "accept").status_code == 303
    act(office, record["id"], "assign", lead="区教育局", responsible="西城街道", track="long_term")
    act(office, record["id"], "start", weekly="yes")
    act(office, record["id"], "reply", public_reply="已安排交警在放学时段值守。")
    act(office, record["id"], "close", outcome="resolved")
    act(office, record["id"], "follow_up", satisfaction="satisfied")
    page = office.get(f"/office/records/{record['id']}").text
    assert status_of(office, record["id"]) == "已回访" and "长效常治" in page and "已安排交警在放学时段值守。" in page
    # History names people as colleagues know them, never by log-in name.
    people = re.findall(r"<td[^>]*>([^<]*)</td>", page)  # whatever class the history's cells carry
    assert people.count("王干事") == 6 and "amy" not in people


def test_an_action_the_status_does_not_allow_shows_the_reason(office):
    record = seed(office)
    login(office, "amy")
    response = act(office, record["id"], "close", outcome="resolved")
    assert "error=" in response.headers["location"]
    assert response.headers["location"].endswith("?error=not_allowed")
    page = office.get(response.headers["location"]).text
    assert "当前的状态下不能执行这个操作" in page and status_of(office, record["id"]) == "已收到"


def test_department_sees_only_the_matters_dispatched_to_it_even_by_url(office):
    school = seed(office, station_id="hebin-primary", feeling="学校门口")  # education-health
    park = seed(office, station_id="rulin-industrial-park", feeling="园区治安")  # public-order, never dispatched
    fraud = seed(office, station_id="hebin-primary", feeling="校外贷款")  # another sector, dispatched to police
    dispatch(office, school["id"], "education")
    dispatch(office, fraud["id"], "police")
    login(office, "police")
    listing = office.get("/office/records").text
    assert "校外贷款" in listing and "园区治安" not in listing and "学校门口" not in listing
    assert office.get(f"/office/records/{park['id']}").status_code == 404  # its own sector, never dispatched
    assert office.get(f"/office/records/{school['id']}").status_code == 404
    assert act(office, school["id"], "sign").status_code == 404
    assert office.get(f"/office/records/{fraud['id']}").status_code == 200
    assert "校外贷款" in office.get("/office/records", params={"q": "校外贷款"}).text
    assert "共 0 条" in office.get("/office/records", params={"q": "学校门口"}).text


def test_after_reassign_the_old_department_sees_nothing_of_the_matter(office):
    school = seed(office, station_id="hebin-primary", feeling="学校门口")
    dispatch(office, school["id"], "police")
    login(office, "amy")
    act(office, school["id"], "reassign", department="education", note="属教育领域")
    office.cookies.clear()
    login(office, "police")
    assert office.get(f"/office/records/{school['id']}").status_code == 404
    assert "学校门口" not in office.get("/office/records").text


def test_department_cannot_take_staff_actions(office):
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "police")
    response = act(office, park["id"], "urge")
    assert response.headers["location"].endswith("?error=not_your_action")
    assert status_of(office, park["id"]) == "已交办"
    assert act(office, park["id"], "sign").headers["location"].endswith(park["id"] + "?done=sign")
    assert status_of(office, park["id"]) == "办理中"


def test_viewer_sees_reports_only(office):
    record = seed(office)
    login(office, "boss")
    assert office.get("/office/records").status_code == 403
    assert office.get(f"/office/records/{record['id']}").status_code == 403
    weekly = office.get("/office/reports/weekly")
    assert weekly.status_code == 200 and "周例会材料" in weekly.text


def test_phone_is_shown_to_staff_only(office):
    record = seed(office, station_id="rulin-industrial-park", phone="13811112222", consent=True)
    dispatch(office, record["id"], "police")
    login(office, "police")
    assert "13811112222" not in office.get(f"/office/records/{record['id']}").text
    office.cookies.clear()
    login(office, "amy")
    assert "13811112222" in office.get(f"/office/records/{record['id']}").text


def test_hostile_text_is_shown_as_text(office):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    record = seed(office, feeling=hostile, suggestion="</div><b>粗体</b>")
    login(office, "amy")
    for path in ("/office/records", f"/office/records/{record['id']}"):
        page = office.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>粗体</b>" not in page
        assert "&lt;script&gt;" in page


def test_merging_a_duplicate_keeps_both_texts(office):
    first = seed(office, feeling="路口积水严重")
    second = seed(office, feeling="同一个路口又积水了")
    login(office, "amy")
    response = act(office, second["id"], "merge", into=first["receipt"].lower())
    assert "error" not in response.headers["location"]
    target = office.get(f"/office/records/{first['id']}").text
    assert "路口积水严重" in target and "同一个路口又积水了" in target and second["receipt"] in target
    merged = office.get(f"/office/records/{second['id']}").text
    assert "已合并" in merged and "已办结" in merged
    assert "error=" in act(office, first["id"], "merge", into=first["receipt"]).headers["location"]


def test_look_up_shows_the_public_reply_and_nothing_else(office):
    record = seed(office, feeling="秘密", phone="13811113333", consent=True)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "reply", public_reply="已转交牵头部门办理。")
    answer = office.post("/api/receipts/lookup", json={"code": record["receipt"]}).json()
    assert answer["status"] == "已受理" and answer["reply"] == "已转交牵头部门办理。"
    assert set(answer) == {"ok", "receipt", "status", "updated_at", "reply", "round", "reopened", "verdict_open", "verdict",
                           "maintained", "question", "previous_reply"}
    page = office.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "已转交牵头部门办理。" in page
    for secret in ("秘密", "13811113333", record["station_id"]):
        assert secret not in page


def test_office_forms_from_another_origin_are_refused(office):
    response = office.post("/office/login", data={"name": "amy"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_logout_ends_the_session(office):
    login(office, "amy")
    token = csrf(office, "/office/records")
    office.post("/office/logout", data={"csrf": token})
    assert office.get("/office/records", follow_redirects=False).status_code == 303


def test_inbox_list_filters_searches_and_pages(office):
    seed(office, station_id="hebin-primary", feeling="校门口有人卖假冒文具")
    park = seed(office, station_id="rulin-industrial-park", feeling="园区夜里有人聚众赌博")
    for n in range(26):
        seed(office, station_id="jintan-east-bus", feeling=f"车站黑车第{n}辆")
    login(office, "amy")
    assert "聚众赌博" in office.get("/office/records", params={"q": "赌博"}).text
    assert "假冒文具" not in office.get("/office/records", params={"q": "赌博"}).text
    assert "聚众赌博" in office.get("/office/records", params={"q": park["receipt"]}).text
    by_sector = office.get("/office/records", params={"sector": "education-health"}).text
    assert "假冒文具" in by_sector and "聚众赌博" not in by_sector
    by_station = office.get("/office/records", params={"station": "rulin-industrial-park"}).text
    assert "聚众赌博" in by_station and "黑车" not in by_station
    first = office.get("/office/records").text
    second = office.get("/office/records", params={"page": "2"}).text
    assert "第 1 / 2 页" in first
    # All in one minute, whose order the list does not keep (see `readside_index`):
    # each record on one page of the two, once.
    shown = re.findall(r"车站黑车第(\d+)辆", first) + re.findall(r"车站黑车第(\d+)辆", second)
    assert sorted(map(int, shown)) == list(range(26))
    assert ("校门口有人卖假冒文具" in first) != ("校门口有人卖假冒文具" in second)
    act(office, park["id"], "accept")
    accepted = office.get("/office/records", params={"status": "accepted"}).text
    assert "聚众赌博" in accepted and "黑车" not in accepted
    act(office, park["id"], "assign", lead="区公安分局", backdate="2020-01-01", track="immediate")
    overdue = office.get("/office/records", params={"overdue": "1"}).text
    assert "聚众赌博" in overdue and "已超期" in overdue and "黑车" not in overdue
