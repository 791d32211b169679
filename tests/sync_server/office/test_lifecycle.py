"""The office's lifecycle rules over HTTP: confirmation, merging, declining,
re-assigning, display names, what a department may see, and messages from codes."""

from __future__ import annotations

import re
from datetime import date

from sync_server.store.embedded.triageentry import TriageEntry
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, csrf, dispatch, login, seed, status_of

office = test_office.office  # the same small office world


def _post(client, record_id, **data):
    return client.post(f"/office/records/{record_id}/action", data={"csrf": csrf(client, "/office/records"), **data},
                       follow_redirects=False)


def _open(client, record_id):
    act(client, record_id, "accept")
    act(client, record_id, "assign", lead="区教育局", deadline="2026-12-31", track="long_term")


def test_closing_asks_for_confirmation_and_changes_nothing_until_confirmed(office):
    record = seed(office)
    login(office, "amy")
    _open(office, record["id"])
    first = _post(office, record["id"], action="close", outcome="resolved")
    assert first.status_code == 200 and "确认办结" in first.text
    assert status_of(office, record["id"]) == "已交办"
    # The second step is a plain form carrying the same fields: no JavaScript needed.
    form = re.search(r'<form method="post" action="/office/records/[^"]+/action">(.*?)</form>', first.text, re.S)[1]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert fields["confirm"] == "yes" and fields["outcome"] == "resolved" and fields["action"] == "close"
    office.post(f"/office/records/{record['id']}/action", data=fields, follow_redirects=False)
    assert status_of(office, record["id"]) == "已办结"


def test_declining_and_merging_also_ask_for_confirmation(office):
    record, other = seed(office), seed(office)
    login(office, "amy")
    declined = _post(office, record["id"], action="decline", reason="重复", public_reply="感谢您的反映。")
    assert "确认不予受理" in declined.text and "感谢您的反映。" in declined.text
    merged = _post(office, record["id"], action="merge", into=other["receipt"])
    assert "确认合并" in merged.text and other["receipt"] in merged.text
    assert status_of(office, record["id"]) == "已收到"


def test_decline_form_offers_a_polite_public_reply_and_the_citizen_reads_it(office):
    record = seed(office)
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert re.search(r'<textarea name="public_reply"[^>]*>感谢您的反映。', page)
    act(office, record["id"], "decline", reason="不属于整治范围", public_reply="感谢您的反映。此事由市场监管部门负责。")
    answer = office.post("/api/receipts/lookup", json={"code": record["receipt"]}).json()
    assert answer["status"] == "不予受理" and answer["reply"] == "感谢您的反映。此事由市场监管部门负责。"


def test_no_merging_into_a_closed_record(office):
    target, duplicate = seed(office), seed(office)
    login(office, "amy")
    _open(office, target["id"])
    act(office, target["id"], "close", outcome="resolved")
    response = act(office, duplicate["id"], "merge", into=target["receipt"])
    assert response.headers["location"].endswith("?error=merge_closed")
    assert "不能合并到一条已办结" in office.get(response.headers["location"]).text
    assert status_of(office, duplicate["id"]) == "已收到"


def test_merged_record_links_its_target_both_ways_and_offers_no_follow_up(office):
    target, duplicate = seed(office), seed(office)
    login(office, "amy")
    act(office, duplicate["id"], "merge", into=target["receipt"])
    page = office.get(f"/office/records/{duplicate['id']}").text
    assert f'href="/office/records/{target["id"]}"' in page and target["receipt"] in page
    assert 'value="follow_up"' not in page
    back = office.get(f"/office/records/{target['id']}").text
    assert f'href="/office/records/{duplicate["id"]}"' in back


def test_after_a_merge_the_office_index_shares_the_books_read_only_entries(office):
    target, duplicate = seed(office), seed(office)
    login(office, "amy")
    act(office, duplicate["id"], "merge", into=target["receipt"])
    state = office.app.state
    for record in (target, duplicate):
        row = state.readside.row(record["id"], state.stations.registry, date.today())
        # Not the dicts the merge built: a reader in another thread holds what it is given.
        assert row.triage is state.triage.entry(record["id"]) and isinstance(row.triage, TriageEntry)
    assert state.triage.entry(target["id"])["merged"] == (duplicate["id"],)


def test_merged_records_lookup_shows_the_targets_status_and_reply(office):
    target, duplicate = seed(office), seed(office)
    login(office, "amy")
    act(office, duplicate["id"], "merge", into=target["receipt"])
    _open(office, target["id"])
    act(office, target["id"], "reply", public_reply="已安排巡逻。")
    answer = office.post("/api/receipts/lookup", json={"code": duplicate["receipt"]}).json()
    assert answer["status"] == "已交办" and answer["reply"] == "已安排巡逻。"


def test_reassigning_keeps_track_and_deadline_unless_changed(office):
    record = seed(office)
    login(office, "amy")
    _open(office, record["id"])
    act(office, record["id"], "reassign", department="police", note="属治安案件")  # no track, no deadline given
    page = office.get(f"/office/records/{record['id']}").text
    assert "区公安分局牵头" in page and "长效常治" in page and "2026-12-31" in page


def test_department_never_sees_another_sectors_receipt_after_a_cross_sector_merge(office):
    park = seed(office, station_id="rulin-industrial-park")  # public-order
    school = seed(office, station_id="hebin-primary")  # education-health
    dispatch(office, park["id"], "police")
    login(office, "amy")
    act(office, school["id"], "merge", into=park["receipt"])
    staff_view = office.get(f"/office/records/{park['id']}").text
    assert school["receipt"] in staff_view
    office.cookies.clear()
    login(office, "police")
    page = office.get(f"/office/records/{park['id']}").text
    assert school["receipt"] not in page and school["id"] not in page
    assert "其他领域" in page or "另一领域" in page


def test_office_messages_come_from_codes_never_from_the_url(office):
    record = seed(office)
    login(office, "amy")
    forged = office.get(f"/office/records/{record['id']}", params={"error": "请拨打 110-8888 领取补贴"}).text
    assert "领取补贴" not in forged
    known = office.get(f"/office/records/{record['id']}", params={"error": "merge_closed"}).text
    assert "不能合并到一条已办结、已回访或不予受理的记录。" in known


def test_assign_stores_the_one_line_summary(office):
    record = seed(office)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局", deadline="2026-12-31", track="immediate", summary="校门口放学拥堵")
    assert "校门口放学拥堵" in office.get(f"/office/records/{record['id']}").text


def test_merges_into_one_target_at_once_each_keep_their_duplicate(office):
    # Two staff merge two duplicates into one target at the same moment: each merge
    # reads the target's entry and writes it back, so without one action at a time the
    # second write would drop the first duplicate from the target's list.
    from concurrent.futures import ThreadPoolExecutor

    from tests.sync_server.office.test_pages import csrf

    target = seed(office)
    duplicates = [seed(office) for _ in range(6)]
    login(office, "amy")
    token = csrf(office, "/office/records")

    def merge(duplicate):
        return office.post(f"/office/records/{duplicate['id']}/action", follow_redirects=False,
                           data={"csrf": token, "action": "merge", "into": target["receipt"], "confirm": "yes"})

    with ThreadPoolExecutor(len(duplicates)) as pool:
        answers = list(pool.map(merge, duplicates))
    assert all(a.status_code == 303 and "error" not in a.headers["location"] for a in answers)
    page = office.get(f"/office/records/{target['id']}").text
    assert all(d["receipt"] in page for d in duplicates)
    assert set(office.app.state.triage.entry(target["id"])["merged"]) == {d["id"] for d in duplicates}
