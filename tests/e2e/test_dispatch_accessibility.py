"""The dispatch pages as people reach them, checked by axe-core at 360 px and 1280 px:
a department's queue, the record page with the office's and the department's new forms,
a pending extension, the confirmation pages, the list with its batch form and the batch
confirmation. No serious or critical violation; at 360 px the page never scrolls sideways."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from minqing.registry import load_registry
from sync_server.store.embedded.accounts import Accounts
from tests.e2e.test_office_layout import PASSWORD, _axe, _seed

WIDTHS = (360, 1280)


def _log_in(browser, world, name: str):
    page = browser.new_context(bypass_csp=True).new_page()  # axe is injected as a script the CSP would refuse
    page.goto(world.server.url + "/office/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('收件箱')")
    return page


def _post(page, world, record_id: str, action: str, **fields) -> None:
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(f"{world.server.url}/office/records/{record_id}/action",
                                 form={"csrf": csrf, "action": action, "confirm": "yes", **fields},
                                 headers={"Origin": world.server.url}, max_redirects=0)
    assert response.status == 303 and "error" not in response.headers["location"], response.headers["location"]


def _check(page, found: dict, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        found[f"{name}@{width}"] = _axe(page)
        if width == 360:
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, name


def test_the_dispatch_pages_have_no_serious_or_critical_axe_violation(world, browser):
    market = load_registry(world.registry).lead_of("market")
    accounts = Accounts(world.server.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("market", PASSWORD, "department", "市场监管李科长", department=market.id)
    _seed(world, 3)
    office = _log_in(browser, world, "amy")
    found: dict[str, list[str]] = {}
    try:
        ids = office.eval_on_selector_all("input[name^='pick:']", "es => es.map(e => e.name.slice(5))")
        _check(office, found, "list_with_batch_form")
        for name in ids[:2]:
            office.check(f"input[name='pick:{name}']")
        office.select_option("select[name=batch_action]", "accept")
        office.click("[data-batch] button[type=submit]")
        office.wait_for_selector("h1:has-text('确认批量受理')")
        _check(office, found, "batch_confirm")
        office.click(".confirm button[type=submit]")
        office.wait_for_selector("[data-batch-done]")
        _check(office, found, "batch_result")

        record = ids[0]
        office.goto(f"{world.server.url}/office/records/{record}")
        _check(office, found, "record_accepted_with_assign_form")
        _post(office, world, record, "assign", department=market.id, track="immediate")
        office.goto(f"{world.server.url}/office/records/{record}?done=assign")
        _check(office, found, "record_dispatched_staff")
        office.locator("form[data-action=reassign] textarea[name=note]").fill("改由其他部门牵头")
        office.click("form[data-action=reassign] button[type=submit]")
        office.wait_for_selector("h1:has-text('确认改派')")
        _check(office, found, "confirm_reassign")
        office.goto(f"{world.server.url}/office/queue?department={market.id}")
        _check(office, found, "queue_staff")

        desk = _log_in(browser, world, "market")
        desk.goto(f"{world.server.url}/office/queue")
        desk.wait_for_selector("[data-queue-row]")
        _check(desk, found, "queue_department")
        desk.goto(f"{world.server.url}/office/records/{record}")
        _check(desk, found, "record_department_to_sign")
        _post(desk, world, record, "sign")
        later = (datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=30)).isoformat()
        _post(desk, world, record, "ask_extension", deadline=later, reason="需要联合执法")
        desk.goto(f"{world.server.url}/office/records/{record}?done=ask_extension")
        _check(desk, found, "record_department_handling")
        desk.context.close()

        office.goto(f"{world.server.url}/office/records/{record}")
        office.wait_for_selector("[data-extension]")
        _check(office, found, "record_extension_pending")
    finally:
        office.context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}
