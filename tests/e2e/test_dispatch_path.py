"""The whole path of a dispatched matter with two browsers, the office (staff) and a
department of ANOTHER sector than the record's: 交办, 签收, 申请延期 granted, a progress
note, 提交办结, 审核 back for 重办, 提交办结 again, closed; each step confirmed by the
page's own success message. Run plain and sealed: sealed, the department reads the
words of the matter dispatched to it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from minqing.registry import load_registry
from sync_server.sealing.keyring import Keyring, access_of
from sync_server.store.embedded.accounts import Accounts
from tests.e2e.conftest import open_station
from tests.e2e.test_sealed_submissions import sealed  # noqa: F401,F811 - the sealed world: keys made, site built, server up

PASSWORD = "correct-horse-battery"
FAST = {"n": 2**10, "r": 8, "p": 1}  # stored with each lock: the server unlocks at this cost
STATION = "hebin-primary"  # 教育卫生
WORDS = "学校周边有人放贷给学生K9"


def _department(registry_path) -> tuple[str, str]:
    """The lead department of 市场流通: another sector than the record's."""
    lead = load_registry(registry_path).lead_of("market")
    return lead.id, lead.name


def _log_in(browser, world, name: str):
    page = browser.new_context().new_page()
    page.goto(world.server.url + "/office/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('收件箱')")
    return page


def _act(page, action: str, done: str, **fields) -> None:
    """Take `action` from its form on the record page, confirm it where a second page asks,
    and wait for the page's own success message."""
    form = page.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        field = form.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value) if name == "department" else field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.check()
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    if page.locator("h1:has-text('确认')").count():
        page.locator(".confirm button[type=submit]").click()
        page.wait_for_load_state("load")
    page.wait_for_selector(f"[data-done]:has-text('{done}')")


def _status(page) -> str:
    return page.locator("table").first.locator("tr:has(th:text-is('状态')) td").inner_text()


def _walk(world, browser, submit_words) -> None:
    department, department_name = _department(world.registry)
    accounts = Accounts(world.server.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("market", PASSWORD, "department", "市场监管李科长", department=department)
    receipt = submit_words()

    office = _log_in(browser, world, "amy")
    office.goto(world.server.url + "/office/records?q=" + receipt)
    office.click(f"text={receipt}")
    record_url = office.url
    _act(office, "accept", "已受理")
    _act(office, "assign", "已交办", department=department_name, track="immediate")
    assert department_name in office.locator("[data-department]").inner_text()

    desk = _log_in(browser, world, "market")
    desk.goto(world.server.url + "/office/queue")
    assert desk.locator("[data-tab=to_sign] [data-count]").inner_text() == "1"
    desk.click(f"[data-queue-row] a:has-text('{receipt}')")
    assert WORDS in desk.content()  # the department reads the words of the matter sent to it
    _act(desk, "sign", "已签收")
    later = (datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=30)).isoformat()
    _act(desk, "ask_extension", "延期申请已提交", deadline=later, reason="需要联合执法，时间较长")

    office.goto(record_url)
    assert office.locator("[data-extension]").count() == 1 and later in office.locator("[data-extension]").inner_text()
    _act(office, "grant_extension", "已同意延期")
    assert later in office.locator("[data-department]").inner_text()

    desk.goto(record_url)
    _act(desk, "progress", "办理进展已记录", note="已约谈涉事人员")
    _act(desk, "submit", "已提交办结", outcome="resolved", result="已查处一起", public_reply="已依法查处。")

    office.goto(record_url)
    assert office.locator("[data-proposal]").count() == 1 and _status(office).startswith("待审核")
    _act(office, "redo", "已退回承办单位重办", note="请补充整改情况")

    desk.goto(world.server.url + "/office/queue?tab=handling")
    desk.click(f"[data-queue-row] a:has-text('{receipt}')")
    _act(desk, "submit", "已提交办结", outcome="resolved", result="已查处并整改", public_reply="已依法查处并完成整改。")

    office.goto(record_url)
    _act(office, "approve", "已审核办结")
    assert _status(office).startswith("已办结")
    history = office.locator("h2:has-text('处理记录') + div table tbody tr").all_inner_texts()
    assert sum("市场监管李科长" in step for step in history) == 5  # 签收, 申请延期, 进展, 提交办结 twice
    assert any(department_name in step for step in history)

    office.goto(world.server.url + "/status/")
    office.fill("input[name=code]", receipt)
    office.click("form#lookup button[type=submit]")
    office.wait_for_selector("text=已依法查处并完成整改。")
    office.context.close()
    desk.context.close()


def _through_the_station_page(browser, world):
    def submit() -> str:
        page = browser.new_context().new_page()
        open_station(page, world, STATION)
        page.fill("textarea[name=feeling]", WORDS)
        page.click("button[type=submit]")
        page.wait_for_selector("text=已提交", timeout=30000)
        receipt = page.locator(".mq-receipt").inner_text()
        page.context.close()
        return receipt
    return submit


def test_a_matter_dispatched_to_another_sectors_department_goes_the_whole_path(world, browser):
    _walk(world, browser, _through_the_station_page(browser, world))


def _enroll(world) -> None:
    """Staff hold every sector key; the department account holds its department's key."""
    keyring = Keyring(world.server.data_dir, scrypt=FAST)
    recovery = keyring.unlock_recovery(world.recovery)
    keyring.enroll(recovery, "amy", PASSWORD, "*")
    department, _ = _department(world.registry)
    keyring.enroll(recovery, "market", PASSWORD, access_of("department", [], department))


def test_a_sealed_matter_dispatched_to_another_sectors_department_goes_the_whole_path(sealed, browser):  # noqa: F811
    submit = _through_the_station_page(browser, sealed)

    def submit_then_enroll() -> str:
        receipt = submit()
        _enroll(sealed)
        return receipt

    _walk(sealed, browser, submit_then_enroll)
