"""The department's queue page (/office/queue): a matter dispatched to it from another
sector is there under 待签收 with its count, its 签收 due, 催办 count and 督办 mark;
another department never sees it; staff see any department's queue by picking it."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from minqing.registry import load_registry
from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.office.test_pages import PASSWORD, csrf, login, seed


@pytest.fixture
def departments(registry_file):
    registry = load_registry(registry_file)
    return {"market": registry.lead_of("market").id, "police": registry.lead_of("public-order").id,
            "edu": registry.lead_of("education-health").id}


@pytest.fixture
def office(settings, quick_scrypt, departments):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("market", PASSWORD, "department", "市场监管李科长", department=departments["market"])
    accounts.add("police", PASSWORD, "department", "公安张科长", department=departments["police"])
    accounts.add("boss", PASSWORD, "viewer", "领导")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def act(client, record_id: str, action: str, **fields):
    """An action with its confirming step already taken (confirm=yes)."""
    token = csrf(client, "/office/records" if fields.pop("as_staff", True) else "/office/queue")
    return client.post(f"/office/records/{record_id}/action",
                       data={"csrf": token, "action": action, "confirm": "yes", **fields}, follow_redirects=False)


def dispatch(client, record_id: str, department: str, **fields) -> None:
    assert act(client, record_id, "accept").status_code == 303
    response = act(client, record_id, "assign", department=department, track="immediate", **fields)
    assert "error" not in response.headers["location"], response.headers["location"]


def count(page: str, tab: str) -> int:
    return int(re.search(rf'data-tab="{tab}"[^>]*>[^<]*<span data-count>(\d+)</span>', page).group(1))


def as_user(client, name: str) -> None:
    client.cookies.clear()
    login(client, name)


def test_a_matter_of_another_sector_dispatched_to_a_department_is_in_its_queue_to_sign(office, departments):
    record = seed(office, station_id="hebin-primary", feeling="学校门口有人卖三无食品")  # 教育卫生
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    as_user(office, "market")
    page = office.get("/office/queue").text
    assert record["receipt"] in page and "学校门口有人卖三无食品" in page
    assert count(page, "to_sign") == 1 and count(page, "handling") == 0
    assert "前" in page  # its 签收 due time
    assert office.get(f"/office/records/{record['id']}").status_code == 200


def test_another_department_sees_nothing_of_it_even_by_asking_for_that_queue(office, departments):
    record = seed(office, station_id="hebin-primary", feeling="学校门口有人卖三无食品")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    as_user(office, "police")
    for path in ("/office/queue", f"/office/queue?department={departments['market']}", "/office/queue?tab=to_sign"):
        page = office.get(path).text
        assert record["receipt"] not in page and "三无食品" not in page
    assert count(office.get("/office/queue").text, "to_sign") == 0
    assert office.get(f"/office/records/{record['id']}").status_code == 404


def test_a_matter_never_dispatched_is_in_no_departments_queue(office, departments):
    record = seed(office, station_id="dongcheng-market", feeling="市场里有人强买强卖")
    login(office, "amy")
    act(office, record["id"], "accept")
    as_user(office, "market")
    page = office.get("/office/queue").text
    assert record["receipt"] not in page and all(count(page, tab) == 0 for tab in ("to_sign", "handling"))


def test_staff_pick_a_department_and_see_its_queue(office, departments):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    assert "请选择一个部门" in office.get("/office/queue").text
    page = office.get(f"/office/queue?department={departments['market']}").text
    assert record["receipt"] in page and count(page, "to_sign") == 1
    # The tabs keep the picked department.
    assert f'href="/office/queue?department={departments["market"]}&amp;tab=handling"' in page
    assert record["receipt"] not in office.get(f"/office/queue?department={departments['police']}").text
    assert "没有这个部门" in office.get("/office/queue?department=no-such").text


def test_urges_and_supervision_show_in_the_queue(office, departments):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    act(office, record["id"], "urge", note="请尽快签收")
    act(office, record["id"], "urge")
    act(office, record["id"], "supervise")  # numbers the year's first 督办单
    as_user(office, "market")
    page = office.get("/office/queue").text
    assert "催办 2 次" in page and "data-supervised" in page and re.search(r"金扫黑办督〔\d{4}〕1号", page)


def test_a_signed_matter_moves_to_handling(office, departments):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    as_user(office, "market")
    response = act(office, record["id"], "sign", as_staff=False)
    assert response.headers["location"].endswith("?done=sign")
    page = office.get("/office/queue?tab=handling").text
    assert count(page, "to_sign") == 0 and count(page, "handling") == 1 and record["receipt"] in page


def test_cohandled_matters_have_their_own_list(office, departments):
    record = seed(office, station_id="hebin-primary", feeling="协办的事情")
    login(office, "amy")
    dispatch(office, record["id"], departments["police"], co_departments=departments["market"])
    as_user(office, "market")
    page = office.get("/office/queue").text
    assert "协办事项（1 件）" in page and record["receipt"] in page and count(page, "to_sign") == 0


def test_viewers_have_no_queue(office):
    login(office, "boss")
    assert office.get("/office/queue").status_code == 403


def test_after_reassignment_the_old_department_has_nothing_of_it_and_the_new_one_has_it(office, departments):
    record = seed(office, station_id="hebin-primary", feeling="改派的事情")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    response = act(office, record["id"], "reassign", department=departments["police"], note="应由公安牵头")
    assert response.headers["location"].endswith("?done=reassign")
    as_user(office, "market")
    page = office.get("/office/queue").text
    assert record["receipt"] not in page and "改派的事情" not in page and count(page, "to_sign") == 0
    assert office.get(f"/office/records/{record['id']}").status_code == 404
    as_user(office, "police")
    page = office.get("/office/queue").text
    assert record["receipt"] in page and count(page, "to_sign") == 1


def test_a_matter_sent_back_waits_under_returned_and_the_department_lands_on_its_queue(office, departments):
    record = seed(office, station_id="hebin-primary")
    login(office, "amy")
    dispatch(office, record["id"], departments["market"])
    as_user(office, "market")
    response = act(office, record["id"], "send_back", note="不属于本单位职责", as_staff=False)
    assert response.status_code == 303
    page = office.get(response.headers["location"]).text
    assert "已退回办公室" in page and 'role="status"' in page
    returned = office.get("/office/queue?tab=returned").text
    assert count(returned, "returned") == 1 and record["receipt"] in returned


def test_the_office_list_filters_by_department_and_due_soon(office, departments):
    from datetime import timedelta

    from sync_server.office.pages import local_today

    soon = seed(office, station_id="hebin-primary", feeling="临期的事")
    later = seed(office, station_id="hebin-primary", feeling="不急的事")
    login(office, "amy")
    dispatch(office, soon["id"], departments["market"], deadline=(local_today() + timedelta(days=1)).isoformat())
    dispatch(office, later["id"], departments["police"], deadline=(local_today() + timedelta(days=60)).isoformat())
    page = office.get("/office/records").text
    assert 'name="department"' in page and 'name="due_soon"' in page
    due = office.get("/office/records", params={"due_soon": "1"}).text
    assert "临期的事" in due and "不急的事" not in due and "data-due-soon" in due
    by_department = office.get("/office/records", params={"department": departments["police"]}).text
    assert "不急的事" in by_department and "临期的事" not in by_department
