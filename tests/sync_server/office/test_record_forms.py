"""A record's page offers a form for every action this account may take now, and no
other: 交办 with the registry's departments (the sector's lead chosen), 协办 boxes and the
track's default deadlines; the department's 签收, 退回, 申请延期, 进展, 提交办结; the
office's 同意/不同意延期, 审核办结 prefilled, 重办, 催办. Actions that end or move a
matter ask again on a second page; every action ends with a message from a fixed table."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from minqing.registry import load_registry
from sync_server.app import create_app
from sync_server.office.pages import local_today
from sync_server.office.record_pages import helpers_after
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.office.test_pages import PASSWORD, csrf, login, seed, status_of


@pytest.fixture
def registry(registry_file):
    return load_registry(registry_file)


@pytest.fixture
def office(settings, quick_scrypt, registry):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("market", PASSWORD, "department", "市场监管李科长", department=registry.lead_of("market").id)
    accounts.add("police", PASSWORD, "department", "公安张科长", department=registry.lead_of("public-order").id)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def post(client, record_id: str, action: str, **fields):
    token = csrf(client, f"/office/records/{record_id}")
    return client.post(f"/office/records/{record_id}/action", data={"csrf": token, "action": action, **fields},
                       follow_redirects=False)


def forms(page: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', page))


def as_user(client, name: str) -> None:
    client.cookies.clear()
    login(client, name)


def dispatched(office, registry, station: str = "hebin-primary", **fields) -> dict:
    record = seed(office, station_id=station)
    login(office, "amy")
    post(office, record["id"], "accept")
    response = post(office, record["id"], "assign", department=registry.lead_of("market").id, track="immediate",
                    confirm="yes", **fields)
    assert response.headers["location"].endswith("?done=assign"), response.headers["location"]
    return record


def test_the_assign_form_lists_the_registrys_departments_with_the_sectors_lead_chosen(office, registry):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    post(office, record["id"], "accept")
    page = office.get(f"/office/records/{record['id']}").text
    lead = registry.lead_of("education-health")
    assert re.search(rf'<option value="{lead.id}" selected>{lead.name}', page)
    for department in registry.departments:
        assert f'name="co_departments" value="{department.id}"' in page
    assert 'name="lead"' not in page  # never free text
    rules = registry.dispatch
    for track, days in rules.deadline_days.items():
        assert (local_today() + timedelta(days=days)).isoformat() in page, track


def test_assign_asks_again_and_changes_nothing_before(office, registry):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    post(office, record["id"], "accept")
    market = registry.lead_of("market")
    page = post(office, record["id"], "assign", department=market.id, track="immediate")
    assert page.status_code == 200 and "确认交办" in page.text and market.name in page.text
    assert status_of(office, record["id"]) == "已受理"


def test_an_assign_with_helpers_shows_them_on_the_page_and_in_the_history(office, registry):
    police = registry.lead_of("public-order")
    record = dispatched(office, registry, co_departments=police.id)
    page = office.get(f"/office/records/{record['id']}").text
    assert re.search(r"data-co-departments>[^<]*" + police.name, page)
    assert registry.lead_of("market").name in re.search(r"data-department>([^<]*)", page).group(1)
    assert re.search(r"data-step-helpers>协办：" + police.name, page)


def test_the_latest_dispatch_step_names_the_helpers_of_the_matter_now():
    history = [{"action": "accept"}, {"action": "assign"}, {"action": "reassign"}, {"action": "progress"}]
    assert helpers_after(history, {"co_departments": ["urban", "hrss"]}) == {2: ["urban", "hrss"]}
    assert helpers_after(history, {"co_departments": []}) == {}
    assert helpers_after(history[:1], {"co_departments": ["urban"]}) == {}


def test_the_lead_department_gets_its_own_forms_and_no_office_ones(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    page = office.get(f"/office/records/{record['id']}").text
    assert {"sign", "send_back", "ask_extension", "progress"} <= forms(page)
    assert not forms(page) & {"accept", "assign", "reassign", "urge", "approve", "redo", "close"}


def test_the_office_gets_reassign_and_urge_on_a_dispatched_matter_and_no_department_forms(office, registry):
    record = dispatched(office, registry)
    page = office.get(f"/office/records/{record['id']}").text
    assert {"reassign", "urge"} <= forms(page)
    assert not forms(page) & {"sign", "send_back", "ask_extension", "submit"}


def test_a_helping_department_may_only_add_progress(office, registry):
    record = dispatched(office, registry, co_departments=registry.lead_of("public-order").id)
    as_user(office, "police")
    page = office.get(f"/office/records/{record['id']}").text
    assert forms(page) == {"progress"}


def test_the_success_message_comes_from_the_table_by_code(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    response = post(office, record["id"], "sign")
    assert response.headers["location"] == f"/office/records/{record['id']}?done=sign"
    page = office.get(response.headers["location"]).text
    assert re.search(r'role="status" data-done>已签收', page)
    forged = office.get(f"/office/records/{record['id']}?done=%3Cb%3E%E5%B7%B2%E7%AD%BE%E6%94%B6").text
    assert "data-done" not in forged and "&lt;b&gt;" not in forged


def test_a_pending_extension_is_shown_to_the_office_with_grant_and_refuse(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    post(office, record["id"], "sign")
    later = (local_today() + timedelta(days=40)).isoformat()
    assert post(office, record["id"], "ask_extension", deadline=later,
                reason="需要联合执法").headers["location"].endswith("done=ask_extension")
    as_user(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    box = re.search(r"data-extension>(.*?)</div>", page, re.S).group(1)
    assert later in box and "需要联合执法" in box
    assert {"grant_extension", "refuse_extension"} <= forms(page)
    post(office, record["id"], "refuse_extension", note="期限不能再延")
    page = office.get(f"/office/records/{record['id']}").text
    assert "data-extension" not in page and "期限不能再延" in page


def test_a_proposal_is_shown_and_the_approve_form_is_prefilled(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    post(office, record["id"], "sign")
    post(office, record["id"], "submit", outcome="resolved", result="已查处", public_reply="已依法查处。")
    as_user(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert "data-proposal" in page and "已查处" in page and status_of(office, record["id"]) == "待审核"
    approve = re.search(r'<form[^>]*data-action="approve".*?</form>', page, re.S).group(0)
    assert "已依法查处。</textarea>" in approve
    assert {"approve", "redo"} <= forms(page)


def test_sending_back_asks_again_then_lands_on_the_queue_with_its_message(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    asked = post(office, record["id"], "send_back", note="不属于本单位职责")
    assert asked.status_code == 200 and "确认退回" in asked.text
    done = post(office, record["id"], "send_back", note="不属于本单位职责", confirm="yes")
    assert done.status_code == 303
    landed = office.get(done.headers["location"]).text
    assert "已退回办公室" in landed


def test_the_history_names_people_and_departments(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    post(office, record["id"], "sign")
    post(office, record["id"], "progress", note="已约谈")
    page = office.get(f"/office/records/{record['id']}").text
    history = page[page.index("处理记录"):]
    assert "市场监管李科长" in history and "王干事" in history and "market" not in re.findall(r">([^<]*)<", history)
    assert registry.lead_of("market").name in history


def test_undo_is_offered_to_the_last_steps_actor_and_says_so_when_taken(office, registry):
    record = dispatched(office, registry)
    post(office, record["id"], "urge", note="请尽快签收")
    page = office.get(f"/office/records/{record['id']}").text
    assert "undo" in forms(page)
    response = post(office, record["id"], "undo")
    assert response.headers["location"].endswith("?done=undo")
    assert "已撤回上一步操作" in office.get(response.headers["location"]).text
    as_user(office, "market")
    assert "undo" not in forms(office.get(f"/office/records/{record['id']}").text)


def test_approving_asks_again_with_the_reply_the_citizen_will_read(office, registry):
    record = dispatched(office, registry)
    as_user(office, "market")
    post(office, record["id"], "sign")
    post(office, record["id"], "submit", outcome="resolved", result="已查处", public_reply="已依法查处。")
    as_user(office, "amy")
    asked = post(office, record["id"], "approve", public_reply="已依法查处，感谢监督。")
    assert asked.status_code == 200 and "确认审核办结" in asked.text and "已依法查处，感谢监督。" in asked.text
    assert status_of(office, record["id"]) == "待审核"
    done = post(office, record["id"], "approve", public_reply="已依法查处，感谢监督。", confirm="yes")
    assert done.headers["location"].endswith("?done=approve") and status_of(office, record["id"]) == "已办结"
