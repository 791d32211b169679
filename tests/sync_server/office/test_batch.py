"""批量受理 and 批量交办 from the office list: a confirmation page naming every record
first (nothing changes before it), then each record through the same rules as its own
page; the answer counts what was done and names each refused record with its reason.
Staff only, and the CSRF token is checked as on every form."""

from __future__ import annotations

import re

from sync_server.office.batch import LIMIT
from tests.sync_server.office import test_record_forms
from tests.sync_server.office.test_pages import csrf, login, seed, status_of

office, registry = test_record_forms.office, test_record_forms.registry  # one small world: staff, two departments


def batch(client, ids, action: str, confirm: bool = True, **fields):
    data = {"csrf": csrf(client, "/office/records"), "batch_action": action, **{f"pick:{i}": "yes" for i in ids},
            **fields}
    if confirm:
        data["confirm"] = "yes"
    return client.post("/office/batch", data=data, follow_redirects=False)


def test_the_list_offers_a_checkbox_per_row_and_the_batch_form_to_staff_only(office):
    record = seed(office)
    login(office, "amy")
    page = office.get("/office/records").text
    assert f'name="pick:{record["id"]}"' in page and 'action="/office/batch"' in page
    office.cookies.clear()
    login(office, "market")
    assert 'action="/office/batch"' not in office.get("/office/records").text


def test_nothing_changes_until_the_confirmation_page_is_confirmed(office):
    records = [seed(office, feeling=f"第{n}条") for n in range(3)]
    login(office, "amy")
    page = batch(office, [r["id"] for r in records], "accept", confirm=False)
    assert page.status_code == 200 and "确认批量受理" in page.text
    assert all(r["receipt"] in page.text for r in records)
    assert re.search(r'name="confirm" value="yes"', page.text)
    assert all(status_of(office, r["id"]) == "已收到" for r in records)


def test_batch_accept_does_each_and_names_the_refused_with_the_reason(office):
    records = [seed(office, feeling=f"第{n}条") for n in range(3)]
    login(office, "amy")
    batch(office, [records[0]["id"]], "accept")
    answer = batch(office, [r["id"] for r in records], "accept")
    assert answer.status_code == 200
    assert "已办理 2 条，1 条未能办理" in answer.text
    refused = re.search(r'data-batch-refused="([^"]+)"', answer.text).group(1)
    assert refused == records[0]["id"] and "当前的状态下不能执行这个操作" in answer.text
    assert all(status_of(office, r["id"]) == "已受理" for r in records)


def test_batch_assign_sends_each_to_its_own_sectors_lead_by_default(office, registry):
    school = seed(office, station_id="hebin-primary")  # 教育卫生
    market = seed(office, station_id="dongcheng-market")  # 市场流通
    login(office, "amy")
    batch(office, [school["id"], market["id"]], "accept")
    confirm = batch(office, [school["id"], market["id"]], "assign", confirm=False, track="immediate")
    for sector in ("education-health", "market"):
        assert registry.lead_of(sector).name in confirm.text
    answer = batch(office, [school["id"], market["id"]], "assign", track="immediate")
    assert "已办理 2 条" in answer.text
    for record, sector in ((school, "education-health"), (market, "market")):
        page = office.get(f"/office/records/{record['id']}").text
        assert status_of(office, record["id"]) == "已交办" and registry.lead_of(sector).name in page


def test_batch_assign_to_one_department_reaches_its_queue(office, registry):
    records = [seed(office, station_id="hebin-primary", feeling=f"第{n}条") for n in range(2)]
    login(office, "amy")
    batch(office, [r["id"] for r in records], "accept")
    batch(office, [r["id"] for r in records], "assign", department=registry.lead_of("market").id, track="long_term")
    office.cookies.clear()
    login(office, "market")
    queue = office.get("/office/queue").text
    assert all(r["receipt"] in queue for r in records)


def test_batch_assign_of_records_not_yet_accepted_is_refused_one_by_one(office, registry):
    record = seed(office)
    login(office, "amy")
    answer = batch(office, [record["id"]], "assign", department=registry.lead_of("market").id, track="immediate")
    assert "已办理 0 条，1 条未能办理" in answer.text and status_of(office, record["id"]) == "已收到"


def test_a_forged_token_changes_nothing(office):
    record = seed(office)
    login(office, "amy")
    response = office.post("/office/batch", data={"csrf": "forged", "batch_action": "accept", f"pick:{record['id']}": "yes",
                                                  "confirm": "yes"})
    assert response.status_code == 403 and status_of(office, record["id"]) == "已收到"


def test_departments_cannot_batch(office):
    record = seed(office)
    login(office, "market")
    token = csrf(office, "/office/records")
    response = office.post("/office/batch", data={"csrf": token, "batch_action": "accept", f"pick:{record['id']}": "yes",
                                                  "confirm": "yes"})
    assert response.status_code == 403


def test_bad_batches_get_a_chinese_sentence(office):
    record = seed(office)
    login(office, "amy")
    assert "请先在列表中勾选" in batch(office, [], "accept").text
    assert "请选择批量操作" in batch(office, [record["id"]], "close").text
    too_many = batch(office, [f"id-{n}" for n in range(LIMIT + 1)], "accept")
    assert too_many.status_code == 400 and "一次最多" in too_many.text
    unknown = batch(office, ["no-such-id"], "accept")
    assert "1 条没有找到" in unknown.text
