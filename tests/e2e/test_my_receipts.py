"""我的回执 (issue 22 §1): the receipts a citizen's phone keeps after 提交, listed on the
look-up page offline and after a browser restart, deletable one by one; and the receipt
in view and focused after 提交 on a 360×740 phone."""

from __future__ import annotations

from playwright.sync_api import expect

from minqing.browser import CHROMIUM, wait_until
from tests.e2e.conftest import open_station, submit


def _code(page) -> str:
    page.wait_for_selector("text=已提交")
    return page.locator("[data-status] .mq-receipt").inner_text()


def _mine(page):
    page.wait_for_selector("html[data-lookup-ready]", state="attached")
    return page.locator("[data-mine-list] li")


def test_my_receipts_survive_a_browser_restart_and_show_offline(world, browser_type, tmp_path):
    profile = tmp_path / "profile"
    launch = dict(executable_path=CHROMIUM, headless=True, viewport={"width": 360, "height": 740})
    context = browser_type.launch_persistent_context(profile, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    open_station(page, world, worker=True)
    submit(page, "我的回执重启前")
    code = _code(page)
    wait_until(page, "caches.match('/status/').then(Boolean)")
    context.close()

    context = browser_type.launch_persistent_context(profile, offline=True, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(world.server.url + "/status/")
    mine = _mine(page)
    expect(mine).to_have_count(1)
    expect(mine.first).to_contain_text(code)
    expect(mine.first).to_contain_text("已提交")
    expect(mine.first).to_contain_text("园区")  # the post's name, kept with the code
    mine.first.locator("button:text-is('查询')").click()
    expect(page.locator("[data-lookup-result]")).to_have_text("现在无法联网查询，请稍后再试。本机记下的状态：已提交。")
    context.close()


def test_an_entry_of_my_receipts_is_deleted_on_a_second_press_and_stays_deleted(world, page):
    open_station(page, world)
    submit(page, "第一条")
    first = _code(page)
    submit(page, "第二条")
    page.wait_for_function("(c) => !document.querySelector('[data-status]').textContent.includes(c)", arg=first)
    second = _code(page)
    page.goto(world.server.url + "/status/")
    mine = _mine(page)
    expect(mine).to_have_count(2)
    entry = page.locator(f"[data-mine-list] li[data-code='{first}']")
    entry.locator("button:text-is('删除')").click()
    expect(mine).to_have_count(2)  # one press only asks
    entry.locator("button:text-is('确认删除')").click()
    expect(page.locator("[data-mine-said]")).to_contain_text(f"已从本机删除回执 {first}")
    expect(mine).to_have_count(1)
    page.reload()
    expect(_mine(page)).to_have_count(1)
    expect(page.locator("[data-mine-list] li").first).to_contain_text(second)


def test_after_submit_the_receipt_is_in_view_and_focused_on_a_360_by_740_phone(world, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    open_station(page, world)
    submit(page, "提交后看得见回执")
    _code(page)
    status = page.locator("[data-status]")
    assert status.evaluate("e => e === document.activeElement")
    top, bottom = status.evaluate("e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }")
    assert 0 <= top and bottom <= 740
    assert "您写的内容已经送到" in status.inner_text()
    assert "我的回执" in status.inner_text()
    context.close()


def test_a_receipt_kept_offline_says_the_words_are_saved_here(world, context, page):
    open_station(page, world, worker=True)
    context.set_offline(True)
    submit(page, "离线也保存")
    status = page.locator("[data-status]")
    expect(status).to_contain_text("已保存在本机")
    assert status.evaluate("e => e === document.activeElement")
    page.goto(world.server.url + "/status/")
    expect(_mine(page)).to_have_count(1)
    expect(page.locator("[data-mine-list] li").first).to_contain_text("待发送")


def test_my_receipts_leave_the_phone_only_when_a_code_is_looked_up(world, context, page):
    open_station(page, world)
    submit(page, "回执不外传")
    code = _code(page)
    carried: list[str] = []
    # On the context: the service worker's requests show there too.
    context.on("request", lambda r: carried.append(r.url) if code in r.url + (r.post_data or "") else None)
    page.goto(world.server.url + "/status/")
    expect(_mine(page)).to_have_count(1)
    page.reload()
    expect(_mine(page)).to_have_count(1)
    assert carried == []
    page.locator(f"[data-mine-list] li[data-code='{code}'] button:text-is('查询')").click()
    expect(page.locator("[data-lookup-result]")).to_contain_text("办理状态")
    assert carried == [world.server.url + "/api/receipts/lookup"]
