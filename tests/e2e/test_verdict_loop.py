"""The whole loop of 群众说了算 (issue 22), a citizen on a 360 px phone and the office at
its desk, against the real server and the real built site, with nothing set through the
store: the citizen submits; the office replies and closes; the citizen says 不满意 with no
signal; once the signal returns the office sees the flag, 重新办理, and closes again; the
citizen says 满意; the office publishes the matter; the post's page shows it, offline too;
and the figures count the matter once."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.e2e.conftest import open_station, submit, wait_count
from tests.e2e.test_office_layout import _login
from tests.e2e.test_office_verdicts import _act

PHONE_VIEW = {"width": 360, "height": 740}
WORDS = "公交站台旁的路灯坏了一个月，晚上等车很黑"
TITLE = "公交站台路灯已修复"


def _close_with_reply(desk, reply: str) -> None:
    _act(desk, "reply", public_reply=reply)
    _act(desk, "close", confirm="办结")


def _look_up(page, world, code: str) -> None:
    """The look-up page for `code`, asked afresh as a citizen presses 查询 (a link to the
    page already open changes no address, and so asks nothing)."""
    page.goto(f"{world.server.url}/status/#code={code}")
    page.wait_for_selector("html[data-lookup-ready]", state="attached")
    page.locator("#lookup button[type=submit]").click()


def _verdict(page, world, code: str, choice: str) -> None:
    _look_up(page, world, code)
    form = page.locator("form[data-kind=verdict]")
    expect(form.locator("legend")).to_have_text("您对处理结果满意吗？")
    form.locator(f"input[name=choice][value={choice}]").check()
    form.locator("button[type=submit]").click()


def _received(page):
    return page.locator("form[data-kind=verdict] [data-reply-id]")


def _public(world) -> dict:
    with urllib.request.urlopen(f"{world.server.url}/api/public/matters?station=rulin-industrial-park", timeout=10) as answer:
        return json.load(answer)


def test_a_matter_goes_the_whole_loop_from_a_phone_to_the_posts_page_and_counts_once(world, browser):
    phone_context = browser.new_context(viewport=PHONE_VIEW, device_scale_factor=2, is_mobile=True, has_touch=True)
    phone = phone_context.new_page()
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    # 1. The citizen submits at the post.
    open_station(phone, world, worker=True)
    submit(phone, WORDS)
    phone.wait_for_selector("text=已提交")
    code = phone.locator("[data-status] .mq-receipt").inner_text()
    wait_count(phone, 0)

    # 2. The office replies and closes.
    _login(desk, world)
    desk.goto(world.server.url + "/office/records?q=" + code)
    desk.click(f"text={code}")
    record = desk.url
    _act(desk, "accept")
    _act(desk, "assign", confirm="交办")
    _close_with_reply(desk, "已更换站台路灯。")

    # 3. The citizen says 不满意 with no signal; 4. the signal returns and the office sees it.
    _verdict(phone, world, code, "dissatisfied")
    phone_context.set_offline(True)
    expect(phone.locator("[data-lookup-result]")).to_contain_text("已办结")
    phone_context.set_offline(False)
    expect(_received(phone)).to_have_text("评价已收到，谢谢您！", timeout=15000)
    desk.goto(world.server.url + "/office/records?dissatisfied=1")
    assert desk.locator(f"tr:has-text('{code}') [data-flag=dissatisfied]").count() == 1

    # 5. 重新办理, and close again.
    desk.goto(record)
    desk.locator(".actions form[data-action=reopen] [name=reopen_reason]").fill("群众不满意，重新核查")
    _act(desk, "reopen", confirm="重新办理")
    _look_up(phone, world, code)
    expect(phone.locator("[data-lookup-result]")).to_contain_text("重新办理中")
    _close_with_reply(desk, "已再次检修，站台路灯全部亮了。")

    # 6. The citizen says 满意 of the second round.
    _verdict(phone, world, code, "satisfied")
    expect(_received(phone)).to_have_text("评价已收到，谢谢您！", timeout=15000)

    # 7. The office publishes it; the post's page shows it, and still does offline.
    desk.goto(record)
    publish = desk.locator(".actions form[data-action=publish]")
    publish.locator("[name=public_title]").fill(TITLE)
    publish.locator("[name=public_done]").fill("更换灯具，夜间照明恢复")
    _act(desk, "publish", confirm="公开")
    open_station(phone, world)
    expect(phone.locator("[data-public-ready]")).to_contain_text(TITLE)
    phone_context.set_offline(True)
    phone.reload()
    expect(phone.locator("[data-public-ready]")).to_contain_text(TITLE)
    assert WORDS not in phone.locator("[data-public-ready]").inner_text()
    phone_context.set_offline(False)

    # 8. The figures count the matter once: one verdict, 满意, two rounds.
    public = _public(world)
    assert [item["title"] for item in public["items"]] == [TITLE]
    assert public["rate"]["verdicts"] == 1 and public["rate"]["good"] == 1 and public["rate"]["percent"] == 100
    desk.goto(world.server.url + "/office/results?span=all")
    summary = desk.locator("h1 + .filters + p").inner_text()
    assert "已办结 1 件，有评价 1 件，不满意 0 件，重新办理 1 件" in summary, summary
    phone_context.close()
    desk.context.close()
