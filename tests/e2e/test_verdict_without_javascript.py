"""The citizen's verdict and answer by receipt on the server's own pages, with no
JavaScript: the look-up page carries the forms, the answer page says what was kept, and
axe finds no serious violation in any of their states on a 360 px phone."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import httpx2 as httpx

from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import TriageBook
from tests.e2e.test_accessibility import PHONE, _serious, _without_own_scripts

PASSWORD = "correct-horse-battery"


def _submitted(world) -> tuple[str, str]:
    item = {"id": str(uuid.uuid4()), "station_id": "hebin-primary", "rating": "fair", "feeling": "校门口有人摆摊",
            "suggestion": "", "phone": None, "consent": False,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    reply = httpx.post(world.server.url + "/api/submissions/batch", json={"device_id": "t-1", "submissions": [item]})
    return item["id"], reply.json()["results"][0]["receipt"]


def _office(world, record_id: str, *steps: tuple[str, dict]) -> None:
    with httpx.Client(base_url=world.server.url, timeout=10) as client:
        page = client.get("/office/login")
        token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
        client.post("/office/login", data={"name": "amy", "password": PASSWORD, "token": token})
        for action, fields in steps:
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/office/records").text).group(1)
            reply = client.post(f"/office/records/{record_id}/action",
                                data={"csrf": csrf, "action": action, "confirm": "yes", **fields})
            assert "error=" not in str(reply.url), (action, reply.url)


def _look_up(page, world, receipt: str) -> None:
    page.goto(world.server.url + "/status/")
    page.fill("input[name=code]", receipt)
    page.click("form#lookup button[type=submit]")
    page.wait_for_selector("h1:has-text('查询进度')")


def test_a_verdict_without_javascript_is_kept_once_and_shown_back(world, browser, quick_scrypt):
    Accounts(world.server.data_dir).add("amy", PASSWORD, "staff", "王干事")
    record_id, receipt = _submitted(world)
    _office(world, record_id, ("accept", {}), ("assign", {"department": "education", "track": "immediate"}),
            ("reply", {"public_reply": "已清理校门口的摊点。"}), ("close", {"outcome": "resolved"}))
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    _look_up(page, world, receipt)
    page.wait_for_selector("legend:has-text('您对处理结果满意吗？')")
    page.check("input[name=choice][value=dissatisfied]")
    page.fill("textarea[name=comment]", "<b>还是有人摆摊</b>")
    page.click("button:has-text('提交评价')")
    page.wait_for_selector("h1:has-text('评价已收到')")
    assert page.locator("dd strong").inner_text() == "不满意"
    page.click("button:has-text('查看办理进度')")
    page.wait_for_selector("text=您的评价：")
    assert page.locator("p:has-text('您的评价')").inner_text().startswith("您的评价：不满意")
    context.close()
    entry = TriageBook(world.server.data_dir).entry(record_id)
    assert [h["choice"] for h in entry["history"] if h["action"] == "verdict"] == ["dissatisfied"]
    assert entry["dissatisfied"] is True and entry["verdict"]["comment"] == "<b>还是有人摆摊</b>"


def test_the_verdict_and_answer_pages_have_no_serious_accessibility_violation(world, browser, quick_scrypt):
    Accounts(world.server.data_dir).add("amy", PASSWORD, "staff", "王干事")
    record_id, receipt = _submitted(world)
    _office(world, record_id, ("accept", {}), ("ask", {"question": "请问摊点是在哪个门口？"}))
    context = browser.new_context(viewport=PHONE, bypass_csp=True, service_workers="block")
    context.route("**/*", _without_own_scripts)  # the no-JavaScript road; axe itself needs JavaScript
    page = context.new_page()
    _look_up(page, world, receipt)
    page.wait_for_selector("text=请问摊点是在哪个门口？")
    assert _serious(page) == []  # the answer form
    page.click("button:has-text('发送补充')")  # empty: the browser's own required check stops it
    page.fill("textarea[name=text]", "东门")
    page.click("button:has-text('发送补充')")
    page.wait_for_selector("h1:has-text('补充已收到')")
    assert _serious(page) == []
    _office(world, record_id, ("assign", {"department": "education", "track": "immediate"}), ("close", {"outcome": "resolved"}))
    _look_up(page, world, receipt)
    page.wait_for_selector("legend:has-text('您对处理结果满意吗？')")
    assert _serious(page) == []  # the verdict form
    page.click("button:has-text('提交评价')")  # no choice: required radio stops it; the server would refuse too
    page.check("input[name=choice][value=satisfied]")
    page.click("button:has-text('提交评价')")
    page.wait_for_selector("h1:has-text('评价已收到')")
    assert _serious(page) == []
    context.close()
    assert TriageBook(world.server.data_dir).entry(record_id)["citizen_added"] is True
