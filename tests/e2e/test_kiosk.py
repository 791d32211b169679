"""Kiosk mode on a volunteer's tablet at 1024x768: in through the volunteer sheet's link
and the office's PIN, one screen for one purpose, no trace of one citizen left for the
next, a panel behind the PIN that says where the records are, and out only with the PIN."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from build_scripts.volunteer import pin_digest
from sync_server.store.embedded.inbox import Inbox
from tests.e2e.conftest import STATION, open_station, wait_ready

TABLET, PIN = "rulin-1", "482913"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1024, "height": 768}}


def kiosk_link(world, station: str = STATION, tablet: str = TABLET, pin: str = PIN) -> str:
    return f"{world.station_url(station)}#kiosk={tablet}.{pin_digest(station, tablet, pin)}"


def enter_pin(page, pin: str) -> None:
    page.fill("dialog [data-pin]", pin)
    page.click("dialog button[type=submit]")


def kiosk_on(page, world, station: str = STATION) -> None:
    page.goto(kiosk_link(world, station))
    page.wait_for_selector("dialog [data-pin]")
    enter_pin(page, PIN)
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")


def open_panel(page):
    page.click("[data-kiosk-open]")
    enter_pin(page, PIN)
    return page.wait_for_selector("[data-kiosk-panel]")


def shows(page, selector: str, text: str) -> None:
    """The panel's figures are filled from IndexedDB after it opens and again after each
    sync's result is shown: wait until `selector` shows `text` (15 s), as a volunteer
    would look, instead of reading it at once."""
    expect(page.locator(selector)).to_have_text(text, timeout=15000)


def fill_citizen(page, feeling: str, suggestion: str, phone: str | None) -> None:
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=feeling]", feeling)
    page.fill("textarea[name=suggestion]", suggestion)
    if phone:
        page.click("summary")
        page.fill("input[name=phone]", phone)
        page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-kiosk-thanks]")


def stored_records(world) -> list[dict]:
    with Inbox(world.server.data_dir, writer=False) as inbox:
        return list(inbox.records())


def test_the_volunteer_link_and_pin_turn_on_a_screen_with_one_purpose(world, page):
    page.goto(kiosk_link(world))
    page.wait_for_selector("dialog [data-pin]")
    assert "#" not in page.url  # the digest is gone from the address bar and the history
    enter_pin(page, "000000")
    page.wait_for_selector("text=密码不对")
    assert page.locator("html.mq-kiosk").count() == 0
    enter_pin(page, PIN)
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    # No drawer, no table of contents, no header, no links away.
    for chrome in (".md-header", ".md-sidebar", ".md-footer", "label[for=__drawer]"):
        assert page.locator(chrome).first.is_hidden()
    assert page.locator("a[href]:visible").count() == 0
    assert page.locator("form#feedback").is_visible()
    # Large type for arm's length.
    size = page.eval_on_selector("textarea[name=feeling]", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 22
    # It is remembered: a reload (a volunteer, a citizen pulling down) stays in kiosk mode.
    page.reload()
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    assert page.locator(".md-header").is_hidden()


def test_three_citizens_offline_leave_no_trace_for_the_next(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    trail = page.evaluate("history.length")
    citizens = [(f"第{n}位群众的私密感受", f"第{n}位群众的建议", f"1391234567{n}") for n in range(3)]
    receipts = []
    for n, (feeling, suggestion, phone) in enumerate(citizens):
        fill_citizen(page, feeling, suggestion, phone if n != 1 else None)
        receipt = page.locator("[data-kiosk-thanks] .mq-receipt").inner_text()
        assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", receipt)
        assert page.locator("form#feedback").is_hidden()
        receipts.append(receipt)
        page.click("[data-kiosk-next]")
        page.wait_for_selector("[data-kiosk-thanks]", state="detached")
        # The next citizen: an empty form at the top, nothing of anyone before.
        assert page.locator("form#feedback").is_visible()
        assert page.evaluate("scrollY") == 0
        state = page.evaluate("""() => {
            const form = document.getElementById('feedback');
            return {
                fields: [...form.querySelectorAll('textarea, input:not([type=hidden])')]
                    .map(e => e.type === 'radio' || e.type === 'checkbox' ? String(e.checked) : e.value),
                data: [...new FormData(form).entries()].filter(([k, v]) => v !== '' && k !== 'station_id' && k !== 'form_token'),
                open: [...form.querySelectorAll('details')].some(d => d.open),
                dom: document.documentElement.outerHTML + [...document.querySelectorAll('textarea')].map(t => t.value).join(),
            };
        }""")
        assert set(state["fields"]) <= {"", "false"} and state["data"] == [] and not state["open"]
        for earlier in citizens[: n + 1]:
            for trace in earlier:
                assert trace not in state["dom"]
        for receipt_seen in receipts:
            assert receipt_seen not in state["dom"]
        assert page.evaluate("history.length") == trail  # nothing to go back to
    # An undo in an emptied text box brings nothing back.
    page.focus("textarea[name=feeling]")
    page.keyboard.press("Control+z")
    assert page.input_value("textarea[name=feeling]") == ""
    open_panel(page)
    shows(page, "[data-kiosk-waiting]", "3")


def test_the_receipt_clears_after_15_seconds_by_default(world, context, page):
    page.clock.install()
    kiosk_on(page, world)
    context.set_offline(True)
    # Time stands still unless the test moves it: the 15 s are counted, not slept.
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    fill_citizen(page, "计时的感受", "", None)
    page.clock.run_for(14_500)
    assert page.locator("[data-kiosk-thanks]").is_visible()
    page.clock.run_for(1_000)
    page.wait_for_selector("[data-kiosk-thanks]", state="detached")
    assert page.locator("form#feedback").is_visible()
    assert page.evaluate("import('/js/kiosk.js').then(m => m.RECEIPT_SHOWN_MS)") == 15_000


def test_the_receipt_delay_can_be_injected(world, context, page):
    page.add_init_script("window.minqingKioskOptions = { receiptMs: 300 }")
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "注入的时长", "", None)
    page.wait_for_selector("[data-kiosk-thanks]", state="detached", timeout=5000)


def test_sync_offline_says_why_and_online_shows_progress_then_success(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    for n in range(3):
        fill_citizen(page, f"同步第{n}条", "", None)
        page.click("[data-kiosk-next]")
    panel = open_panel(page)
    panel.query_selector("[data-kiosk-sync]").click()
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步没有完成')")
    assert "无法连接服务器，记录仍在本机" in page.inner_text("[data-kiosk-sync-result]")
    expect(page.locator("[data-kiosk-last-error]")).to_contain_text("无法连接服务器", timeout=15000)
    shows(page, "[data-kiosk-waiting]", "3")
    shows(page, "[data-kiosk-last-sync]", "尚未同步")

    # Back online, but the automatic upload is held back so the button does the sending:
    # the server answers "busy for an hour", so the page waits its longest before trying
    # again and nothing is delivered until the volunteer presses the button.
    hold = {"on": True}
    context.route("**/api/submissions/batch", lambda route: route.fulfill(
        status=503, headers={"Retry-After": "3600"}, body="") if hold["on"] else route.continue_())
    context.set_offline(False)
    progress: list[str] = []
    page.expose_function("seen", lambda text: progress.append(text))
    page.evaluate("""() => new MutationObserver(() => {
        const box = document.querySelector('[data-kiosk-progress]');
        if (box && !box.hidden) seen(box.textContent.trim());
    }).observe(document.querySelector('[data-kiosk-panel]'), {subtree: true, childList: true, attributes: true, characterData: true})""")
    hold["on"] = False
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    assert "本次送到 3 条" in page.inner_text("[data-kiosk-sync-result]")
    assert any("已发送" in p for p in progress)
    shows(page, "[data-kiosk-waiting]", "0")
    expect(page.locator("[data-kiosk-last-sync]")).not_to_have_text("尚未同步", timeout=15000)
    shows(page, "[data-kiosk-last-error]", "无")
    assert sorted(r["feeling"] for r in stored_records(world)) == [f"同步第{n}条" for n in range(3)]


def test_sync_pressed_after_an_automatic_sync_says_nothing_was_waiting(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "自动同步先送走的一条", "", None)
    page.click("[data-kiosk-next]")
    context.set_offline(False)
    deadline = time.monotonic() + 15
    while not [r for r in stored_records(world) if r["feeling"] == "自动同步先送走的一条"]:
        assert time.monotonic() < deadline, "the automatic sync never delivered the record"
        page.wait_for_timeout(100)
    panel = open_panel(page)
    shows(page, "[data-kiosk-waiting]", "0")
    panel.query_selector("[data-kiosk-sync]").click()
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    result = page.inner_text("[data-kiosk-sync-result]")
    assert "没有待发送的记录" in result and "本次送到 0 条" not in result, result


def test_sync_pressed_during_an_automatic_upload_counts_what_that_upload_delivers(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    for n in range(2):
        fill_citizen(page, f"正在发送的第{n}条", "", None)
        page.click("[data-kiosk-next]")
    panel = open_panel(page)
    # The automatic upload starts when the signal returns and is answered slowly: the
    # volunteer presses the button while it is still under way.
    held: list = []
    released = {"now": False}
    context.route("**/api/submissions/batch",
                  lambda route: route.continue_() if released["now"] else held.append(route))
    context.set_offline(False)
    deadline = time.monotonic() + 15
    while not held:
        assert time.monotonic() < deadline, "the automatic upload never started"
        page.wait_for_timeout(50)
    panel.query_selector("[data-kiosk-sync]").click()
    expect(page.locator("[data-kiosk-sync-result]")).to_have_text("正在连接服务器…")
    released["now"] = True
    for route in held:
        route.continue_()
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    assert "本次送到 2 条" in page.inner_text("[data-kiosk-sync-result]")
    assert sorted(r["feeling"] for r in stored_records(world)) == [f"正在发送的第{n}条" for n in range(2)]


def _queue_rejected(page) -> None:
    # A record made at a post that is not in the registry (deleted instead of retired):
    # the server rejects it, whatever the tablet does.
    page.evaluate("""async () => {
        const outbox = await import('/js/outbox.js');
        const { newId } = await import('/js/sync.js');
        await outbox.add({ id: newId(), station_id: 'deleted-post', created_at: new Date().toISOString(),
                           rating: 'fair', feeling: '被拒收的记录', suggestion: '', phone: '13800000000', consent: true });
    }""")


def test_a_rejected_record_stays_in_not_sent_and_can_be_exported_and_retried(world, page, tmp_path):
    kiosk_on(page, world)
    _queue_rejected(page)
    open_panel(page)
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    assert "有 1 条未能发送" in page.inner_text("[data-kiosk-sync-result]")
    expect(page.locator("[data-kiosk-rejected]")).to_contain_text("未能发送（1 条）", timeout=15000)
    assert "deleted-post" in page.inner_text("[data-kiosk-rejected]")
    shows(page, "[data-kiosk-waiting]", "0")  # not counted as waiting, and not as sent
    kept = page.evaluate("import('/js/outbox.js').then(m => m.all()).then(rs => rs.map(r => r.state))")
    assert kept == ["rejected"]

    page.click("[data-kiosk-export]")
    # The warning opens once the outbox was read: wait for it, not for whatever dialog is last now.
    warning = page.locator("dialog[open]", has_text="将导出").inner_text()
    assert "电话号码" in warning and "只能交给区扫黑办" in warning
    with page.expect_download() as download:
        page.click("dialog:last-of-type [data-yes]")
    name = download.value.suggested_filename
    assert re.fullmatch(r"民情哨-儒林镇工业园区-\d{8}-\d{4}\.json", name)
    path = tmp_path / "export.json"
    download.value.save_as(path)
    exported = json.loads(path.read_text("utf-8"))
    assert [s["feeling"] for s in exported["submissions"]] == ["被拒收的记录"]
    assert exported["kiosk"] == TABLET and exported["rejected"][0]["error"]["field"] == "station_id"

    # Retry sends it again, and it is still kept when the server still says no.
    batches: list[int] = []
    page.on("request", lambda r: batches.append(1) if r.url.endswith("/api/submissions/batch") else None)
    page.click("[data-kiosk-retry]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('有 1 条未能发送')")
    assert batches
    shows(page, "[data-kiosk-rejected-count]", "1")
    assert stored_records(world) == []


def test_export_asks_first_and_nothing_is_written_when_the_volunteer_cancels(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "取消导出", "", "13912345678")
    page.click("[data-kiosk-next]")
    open_panel(page)
    downloads: list = []
    page.on("download", lambda d: downloads.append(d))
    page.click("[data-kiosk-export]")
    page.click("dialog:last-of-type [data-no]")
    page.wait_for_selector("dialog:has([data-yes])", state="detached")
    page.click("[data-kiosk-export]")  # a second export proves the first would have shown by now
    with page.expect_download():
        page.click("dialog:last-of-type [data-yes]")
    assert len(downloads) == 1


def test_leaving_kiosk_mode_needs_the_pin(world, page):
    kiosk_on(page, world)
    page.click("[data-kiosk-open]")
    enter_pin(page, "111111")
    page.wait_for_selector("text=还可以再试 4 次")
    page.click("dialog [data-no]")
    assert page.locator("[data-kiosk-panel]").count() == 0
    # Five wrong tries lock the PIN for a minute, across a reload. Each try is seen
    # answered before the next: the same message twice would not tell them apart.
    page.click("[data-kiosk-open]")
    for left in (3, 2, 1):
        enter_pin(page, "111111")
        page.wait_for_selector(f"text=还可以再试 {left} 次")
    enter_pin(page, "111111")
    page.wait_for_selector("text=错误次数太多")
    page.reload()
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    page.click("[data-kiosk-open]")
    enter_pin(page, PIN)
    page.wait_for_selector("text=错误次数太多")
    assert page.locator("[data-kiosk-panel]").count() == 0
    page.evaluate("import('/js/outbox.js').then(m => m.deleteMeta('kioskTries'))")  # the minute has passed
    page.click("dialog [data-no]")
    open_panel(page)
    page.click("[data-kiosk-leave]")
    # The kiosk page is itself loaded and ready: wait for the new page, not the old one.
    with page.expect_navigation():
        page.click("dialog:last-of-type [data-yes]")
    wait_ready(page)
    assert page.locator(".md-header").is_visible()
    assert page.locator("html.mq-kiosk").count() == 0
    page.reload()
    wait_ready(page)
    assert page.locator("html.mq-kiosk").count() == 0


def test_a_burst_of_guesses_is_counted_one_by_one_and_reaches_the_lock(world, page):
    # A script submitting guesses faster than one digest had every check read the same
    # count of tries: a thousand guesses cost one try and the lock never came.
    kiosk_on(page, world)
    page.click("[data-kiosk-open]")
    page.wait_for_selector("dialog [data-pin]")
    page.evaluate("""(pins) => {
        const form = document.querySelector('dialog [data-pin-form]');
        for (const pin of pins) {
            form.querySelector('[data-pin]').value = pin;
            form.requestSubmit();
        }
    }""", ["111111"] * 6 + [PIN])
    page.wait_for_selector("dialog [data-pin-form]:not([aria-busy])", state="attached")  # every guess checked
    assert "错误次数太多" in page.inner_text("dialog [data-pin-error]")
    assert page.locator("[data-kiosk-panel]").count() == 0


def test_the_citizens_page_shows_no_volunteer_control(world, page):
    open_station(page, world)
    # A positive signal, not a pause: the kiosk module has decided this is no tablet.
    assert page.evaluate("import('/js/kiosk.js').then(m => m.setupKiosk().ready)") is None
    visible_text = page.inner_text("body")
    for word in ("志愿者", "导出", "退出", "未能发送", "PIN"):
        assert word not in visible_text
    root = page.locator("[data-kiosk-root]")
    assert root.is_hidden() and root.inner_html().strip() == ""
    assert page.locator("[data-kiosk-open], [data-kiosk-panel], dialog").count() == 0
    # Nor does a kiosk link for another post turn this page into a kiosk.
    page.goto(kiosk_link(world, "hebin-primary"))
    enter_pin(page, PIN)
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    open_station(page, world)
    assert page.locator("html.mq-kiosk").count() == 0


def test_a_retired_post_keeps_the_panel_until_its_records_are_sent(world, context, page):
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "撤销前的意见", "", None)
    page.click("[data-kiosk-next]")
    text = world.registry.read_text("utf-8")
    world.registry.write_text(
        text.replace("  - id: rulin-industrial-park\n", "  - id: rulin-industrial-park\n", 1).replace(
            "place: 园区管委会一楼大厅（三地交界，流动人口多）\n    chief: 张站长\n    active: true",
            "place: 园区管委会一楼大厅（三地交界，流动人口多）\n    chief: 张站长\n    active: false"),
        "utf-8")
    world.rebuild()
    context.route("**/api/submissions/batch", lambda route: route.abort())  # the tablet is still unlucky
    context.set_offline(False)
    page.goto(world.station_url())
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    assert "已撤销" in page.inner_text("[data-kiosk-retired]")
    assert "还有 1 条记录没有送到" in page.inner_text("[data-kiosk-retired]")
    assert page.locator("form#feedback").count() == 0
    context.unroute("**/api/submissions/batch")
    open_panel(page)
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    page.wait_for_selector("[data-kiosk-retired]:has-text('已经全部送到')")
    [record] = stored_records(world)
    assert record["feeling"] == "撤销前的意见" and "station_retired" in record.get("flags", [])


def test_a_tablet_clock_three_days_ahead_loses_nothing(world, context, page):
    from datetime import datetime, timedelta, timezone

    page.clock.install(time=datetime.now(timezone.utc) + timedelta(days=3))
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "时钟快了三天", "", None)
    page.click("[data-kiosk-next]")
    context.set_offline(False)
    open_panel(page)
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    assert page.locator("[data-kiosk-rejected]").is_hidden()
    [record] = stored_records(world)
    assert record["feeling"] == "时钟快了三天"
    assert "clock_skew" in record["flags"] and record["received_at"] < record["created_at"]


def test_uploads_from_a_kiosk_carry_the_tablet_name_and_no_lasting_id(world, context, page):
    kiosk_on(page, world)
    # The page or its service worker (Background Sync) uploads, whichever takes the Web
    # Lock first: the context sees both, and the server's copy is what must carry the name.
    bodies: list[dict] = []
    context.on("request", lambda r: bodies.append(json.loads(r.post_data))
               if r.url.endswith("/api/submissions/batch") else None)
    fill_citizen(page, "带平板名", "", None)
    deadline = time.monotonic() + 15
    while not (records := stored_records(world)) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert bodies and all(b["kiosk"] == TABLET for b in bodies)
    [record] = records
    assert record["kiosk"] == TABLET and "device_id" not in record


def test_a_full_server_disk_is_named_with_its_wait(world, context, page):
    # 507 from the intake: the batch is not stored and the volunteer must hear why and
    # how long, not a generic "server error".
    kiosk_on(page, world)
    context.set_offline(True)
    fill_citizen(page, "磁盘满了", "", None)
    page.click("[data-kiosk-next]")
    context.route("**/api/submissions/batch", lambda route: route.fulfill(
        status=507, headers={"Retry-After": "600", "Content-Type": "application/json"},
        body=json.dumps({"ok": False, "error": "insufficient_storage", "message": "服务器存储空间不足"})))
    context.set_offline(False)
    open_panel(page)
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步没有完成')")
    result = page.inner_text("[data-kiosk-sync-result]")
    assert "服务器存储空间不足" in result and "10 分钟后重试" in result
    shows(page, "[data-kiosk-waiting]", "1")


def test_a_tablet_restart_offline_keeps_kiosk_mode_and_its_waiting_records(world, browser_type, tmp_path):
    # The tablet is switched off mid-shift with no signal: on restart it must still be a
    # kiosk (no citizen's page, no way out without the PIN) and still hold the records.
    profile = tmp_path / "profile"
    launch = dict(executable_path="/usr/bin/chromium", headless=True, viewport={"width": 1024, "height": 768})
    context = browser_type.launch_persistent_context(profile, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    kiosk_on(page, world)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)
    world.server.stop()
    context.set_offline(True)
    for n in range(2):
        fill_citizen(page, f"重启前第{n}位", "", None)
        page.click("[data-kiosk-next]")
    context.close()

    context = browser_type.launch_persistent_context(profile, offline=True, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(world.station_url())
    page.wait_for_selector("html[data-kiosk-ready]", state="attached")
    assert page.locator("[data-kiosk-thanks]").count() == 0
    open_panel(page)
    page.wait_for_function("() => document.querySelector('[data-kiosk-waiting]').textContent === '2'")
    world.server.start()
    context.set_offline(False)
    page.click("[data-kiosk-sync]")
    page.wait_for_selector("[data-kiosk-sync-result]:has-text('同步完成')")
    context.close()
    assert sorted(r["feeling"] for r in stored_records(world)) == ["重启前第0位", "重启前第1位"]
