"""The verdict and the answer from the look-up page with JavaScript (issue 22 §2, §4):
queued in the outbox with the browser's own id, sent exactly once when a signal comes,
counted once by the real server however often it arrives, and on a kiosk tablet nothing
kept afterwards. The office side is set through the store (receipt_steps.py)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import open_station, page_now, record_sync_runs, submit, wait_sync_run
from tests.e2e.receipt_steps import asked, closed, idb, kept_entry, steps, submitted
from tests.e2e.test_kiosk import fill_citizen, kiosk_on


def _look_up(page, world, code: str) -> None:
    page.goto(f"{world.server.url}/status/#code={code}")
    page.wait_for_selector("html[data-lookup-ready]", state="attached")


def _give_verdict(page, choice: str, comment: str = "") -> None:
    form = page.locator("form[data-kind=verdict]")
    form.locator(f"input[name=choice][value={choice}]").check()
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()


def _received(page, kind: str = "verdict"):
    return page.locator(f"form[data-kind={kind}] [data-reply-id]")


def test_a_verdict_given_offline_is_sent_once_on_reconnect_and_my_receipt_shows_the_status(world, context, page):
    open_station(page, world)
    submit(page, "路灯坏了")
    page.wait_for_selector("text=已提交")
    code = page.locator("[data-status] .mq-receipt").inner_text()
    closed(world, code)
    page.goto(world.server.url + "/status/")
    page.wait_for_selector("html[data-lookup-ready]", state="attached")
    # 我的回执 opens the look-up for its code and keeps the status it saw.
    page.locator(f"[data-mine-list] li[data-code='{code}'] button:text-is('查询')").click()
    expect(page.locator("[data-lookup-result]")).to_contain_text("已办结")
    expect(page.locator(f"[data-mine-list] li[data-code='{code}']")).to_contain_text("状态：已办结")
    expect(page.locator("form[data-kind=verdict] legend")).to_have_text("您对处理结果满意吗？")

    context.set_offline(True)
    _give_verdict(page, "dissatisfied", "路灯还是不亮")
    expect(_received(page)).to_have_text("已保存在本机，有信号时会自动发送。")
    assert [r["choice"] for r in idb(page, "replies")] == ["dissatisfied"]
    context.set_offline(False)
    expect(_received(page)).to_have_text("评价已收到，谢谢您！", timeout=15000)
    assert idb(page, "replies") == []
    entry = kept_entry(world, code)
    assert len(steps(entry, "verdict")) == 1
    assert entry["verdict"]["choice"] == "dissatisfied" and entry["dissatisfied"] is True


def test_the_same_verdict_sent_twice_is_counted_once(world, page):
    code = submitted(world)
    closed(world, code)
    record_sync_runs(page)
    _look_up(page, world, code)
    page.wait_for_selector("form[data-kind=verdict]")
    sent = []

    def lose_the_first_answer(route):
        # The server stores the verdict; its answer never reaches the phone.
        sent.append(route.request.post_data_json["id"])
        if len(sent) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/receipts/verdict", lose_the_first_answer)
    start = page_now(page)
    _give_verdict(page, "satisfied")
    assert wait_sync_run(page, start)["ok"] is False
    expect(_received(page)).to_have_text("已保存在本机，有信号时会自动发送。")
    page.context.set_offline(True)
    page.context.set_offline(False)  # `online`: the page sends what waits
    expect(_received(page)).to_have_text("评价已收到，谢谢您！", timeout=15000)
    assert len(sent) == 2 and sent[0] == sent[1]
    entry = kept_entry(world, code)
    assert len(steps(entry, "verdict")) == 1 and entry["verdict"]["choice"] == "satisfied"


def test_a_question_answered_offline_reaches_the_office_once(world, context, page):
    code = submitted(world)
    asked(world, code, "请问路灯在哪个路口？")
    _look_up(page, world, code)
    form = page.locator("form[data-kind=answer]")
    expect(form).to_contain_text("办理单位请您补充：请问路灯在哪个路口？")
    assert page.locator("form[data-kind=verdict]").count() == 0  # still open: no verdict asked
    context.set_offline(True)
    form.locator("textarea[name=text]").fill("园区东门第二个路口")
    form.locator("button[type=submit]").click()
    expect(_received(page, "answer")).to_have_text("已保存在本机，有信号时会自动发送。")
    context.set_offline(False)
    expect(_received(page, "answer")).to_have_text("补充已收到，谢谢您！", timeout=15000)
    entry = kept_entry(world, code)
    assert len(steps(entry, "answer")) == 1 and entry["citizen_added"] is True
    assert entry["questions"][0]["answer"] is not None


def test_a_kiosk_verdict_is_counted_and_leaves_nothing_on_the_tablet(world, page):
    code = submitted(world)
    closed(world, code)
    refused = submitted(world, "另一件事")
    closed(world, refused)
    page.add_init_script("window.minqingKioskOptions = { receiptMs: 2000 }")
    kiosk_on(page, world)
    fill_citizen(page, "平板上提交的意见", "", None)  # a kiosk's citizen takes the code on paper
    _look_up(page, world, refused)
    page.wait_for_selector("form[data-kind=verdict]")
    asked(world, refused, "还有别的情况吗？")  # reopened meanwhile: this one is refused
    _give_verdict(page, "satisfied")
    expect(_received(page)).to_contain_text("这件事还在办理中", timeout=15000)
    _look_up(page, world, code)
    assert page.locator("[data-mine]").is_hidden()
    _give_verdict(page, "fair", "基本满意，但修得慢")
    expect(_received(page)).to_have_text("评价已收到，谢谢您！", timeout=15000)
    assert idb(page, "replies") == [] and idb(page, "receipts") == []
    # Then the screen clears for the next citizen: no code, no status, no form.
    expect(page.locator("[data-lookup-result]")).to_be_empty()
    assert page.locator("input[name=code]").input_value() == "" and code not in page.url
    assert page.locator("[data-steps] form").count() == 0
    assert len(steps(kept_entry(world, code), "verdict")) == 1


def test_a_refused_verdict_says_why_in_chinese(world, page):
    code = submitted(world)
    closed(world, code)
    _look_up(page, world, code)
    page.wait_for_selector("form[data-kind=verdict]")
    asked(world, code, "还有别的情况吗？")  # meanwhile the matter is open again
    _give_verdict(page, "satisfied")
    expect(_received(page)).to_contain_text("没有被接收：这件事还在办理中", timeout=15000)
    # A citizen's phone keeps the refused verdict with its reason; a kiosk keeps nothing.
    assert [(r["state"], r["error"]["code"]) for r in idb(page, "replies")] == [("rejected", "still_open")]
