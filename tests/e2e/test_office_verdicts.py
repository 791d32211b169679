"""群众说了算 in the office, in a real browser against the real server: a citizen's 不满意
(given by receipt through the public API) flags the matter in the inbox; staff read the
history, 重新办理 (asked twice), close again, 公开 (asked twice, saying what goes public)
and 撤回公开, ask the citizen a question, and call back from the 回访 list on a 360 px
phone. axe finds no serious or critical violation on any of these page states."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from minqing.registry import load_registry
from tests.e2e.test_office_layout import _axe, _login

PHONE = "13987654321"


def _post(world, path: str, body: dict) -> dict:
    request = urllib.request.Request(world.server.url + path, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _seed(world) -> str:
    item = {"id": str(uuid.uuid4()), "station_id": "rulin-industrial-park",
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rating": "fair",
            "feeling": "园区东门路灯坏了一个月，晚上很黑", "suggestion": "", "phone": PHONE, "consent": True}
    [result] = _post(world, "/api/submissions/batch", {"device_id": "tablet", "submissions": [item]})["results"]
    return result["receipt"]


def _act(page, action: str, confirm: str | None = None, **fields) -> None:
    form = page.locator(f".actions form[data-action={action}]")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "radio" or field.count() > 1:
            form.locator(f"[name={name}][value={value}]").check()
        else:
            field.fill(value)
    # Each click waits for the page it loads: the page before may show a 已…… notice too.
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if confirm:
        page.wait_for_selector(f"h1:has-text('确认{confirm}')")
        with page.expect_navigation():
            page.locator(".confirm form button[type=submit]").click()
    page.wait_for_selector("[data-done]")


def _closed_by_staff(page, world, receipt: str) -> None:
    page.goto(world.server.url + "/office/records")
    page.click(f"text={receipt}")
    page.wait_for_selector("h2:has-text('办理')")
    if page.locator(".actions form[data-action=accept]").count():
        _act(page, "accept")
        _act(page, "assign", confirm="交办")
    _act(page, "close", confirm="办结")


def _verdict(world, receipt: str, choice: str, round_: int) -> None:
    answer = _post(world, "/api/receipts/verdict", {"code": receipt, "id": str(uuid.uuid4()), "round": round_,
                                                   "choice": choice, "comment": "<b>还是不亮</b>"})
    assert answer["ok"], answer


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  bypass_csp=True)
    yield context.new_page()
    context.close()


def test_at_1280px_a_dissatisfied_matter_is_flagged_reopened_closed_published_and_withdrawn(world, desk):
    receipt = _seed(world)
    _login(desk, world)
    _closed_by_staff(desk, world, receipt)
    _verdict(world, receipt, "dissatisfied", 1)
    found = {}
    desk.goto(world.server.url + "/office/records?dissatisfied=1")
    assert desk.locator(f"tr:has-text('{receipt}') [data-flag=dissatisfied]").count() == 1
    found["inbox_flagged"] = _axe(desk)
    registry = load_registry(world.registry)
    department = registry.lead_of(registry.station("rulin-industrial-park").sector).id
    desk.goto(world.server.url + f"/office/queue?department={department}&tab=dissatisfied")
    assert desk.locator(f"tr:has-text('{receipt}') [data-flag=dissatisfied]").count() == 1
    found["queue_dissatisfied"] = _axe(desk)
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    desk.goto(world.server.url + f"/office/reports/weekly?date={today}")
    assert desk.locator(f"table:has-text('{receipt}'):has-text('不满意（凭回执）')").count() == 1
    found["weekly_dissatisfied"] = _axe(desk)
    desk.goto(world.server.url + "/office/records?dissatisfied=1")
    desk.click(f"text={receipt}")
    desk.wait_for_selector("[data-verdicts]")
    history = desk.locator("[data-verdicts]")
    assert "凭回执" in history.inner_text() and "<b>还是不亮</b>" in history.inner_text()  # markup shown as text
    assert desk.locator(".actions form[data-action=maintain]").count() == 1
    found["record_dissatisfied"] = _axe(desk)
    _act(desk, "ask", question="需要您补充：是哪一盏路灯？")
    found["record_asked"] = _axe(desk)
    desk.locator(".actions form[data-action=reopen] [name=reopen_reason]").fill("群众不满意，重新核查")
    desk.locator(".actions form[data-action=reopen] button[type=submit]").click()
    desk.wait_for_selector("h1:has-text('确认重新办理')")
    found["confirm_reopen"] = _axe(desk)
    with desk.expect_navigation():
        desk.locator(".confirm form button[type=submit]").click()
    desk.wait_for_selector("[data-done]")
    assert "第 2 轮" in desk.locator("[data-verdicts]").inner_text()
    assert desk.locator("[data-flag=dissatisfied]").count() == 0
    _act(desk, "close", confirm="办结")
    _verdict(world, receipt, "satisfied", 2)
    desk.reload()
    publish = desk.locator(".actions form[data-action=publish]")
    assert "不公开群众的原话" in publish.inner_text()
    publish.locator("[name=public_title]").fill("园区东门路灯已修复")
    publish.locator("[name=public_done]").fill("更换灯具 3 盏，夜间照明恢复")
    publish.locator("button[type=submit]").click()
    desk.wait_for_selector("h1:has-text('确认公开')")
    found["confirm_publish"] = _axe(desk)
    desk.locator(".confirm form button[type=submit]").click()
    desk.wait_for_selector("[data-published]")
    found["record_published"] = _axe(desk)
    _act(desk, "unpublish")
    assert desk.locator("[data-published]").count() == 0
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_at_360px_the_callback_list_records_a_call_and_fits_the_phone(world, phone):
    receipt = _seed(world)
    _login(phone, world)
    _closed_by_staff(phone, world, receipt)
    phone.goto(world.server.url + "/office/callbacks")
    row = phone.locator(f"tr[data-callback]:has-text('{receipt}')")
    assert PHONE in row.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # the table scrolls, the page does not
    found = {"callbacks": _axe(phone)}
    row.locator("select[name=satisfaction]").select_option("no_answer")
    row.locator("button[type=submit]").click()
    phone.wait_for_selector("[data-done]")
    assert PHONE not in phone.url
    assert "未接通 1 次" in phone.locator(f"tr[data-callback]:has-text('{receipt}')").inner_text()
    found["callbacks_after_no_answer"] = _axe(phone)
    row = phone.locator(f"tr[data-callback]:has-text('{receipt}')")
    row.locator("select[name=satisfaction]").select_option("fair")
    with phone.expect_navigation():
        row.locator("button[type=submit]").click()
    phone.wait_for_selector("[data-done]")
    assert phone.locator("tr[data-callback]").count() == 0
    found["callbacks_empty"] = _axe(phone)
    assert {name: problems for name, problems in found.items() if problems} == {}
