"""Office pages as staff see them: on a 360 px phone (the navigation fits, tables
scroll sideways with codes and dates on one line, record actions stacked), and checked
by axe-core for serious or critical accessibility problems on every office page."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import axe_playwright_python
import pytest

from sync_server.store.embedded.accounts import Accounts

PASSWORD = "correct-horse-battery"
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


def _seed(world, count: int = 3) -> list[str]:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items = [{"id": str(uuid.uuid4()), "station_id": "rulin-industrial-park", "created_at": now, "rating": "fair",
              "feeling": f"园区门口晚上有人聚集闹事，希望加强巡逻和照明，第{n}条反映", "suggestion": "", "phone": None,
              "consent": False} for n in range(count)]
    request = urllib.request.Request(world.server.url + "/api/submissions/batch", method="POST",
                                     data=json.dumps({"device_id": "tablet", "submissions": items}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return [r["receipt"] for r in json.load(response)["results"]]


def _login(page, world) -> None:
    Accounts(world.server.data_dir).add("amy", PASSWORD, "staff", "王干事")
    page.goto(world.server.url + "/office/login")
    page.fill("input[name=name]", "amy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('收件箱')")


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    yield context.new_page()
    context.close()


def test_on_a_360px_phone_the_inbox_table_scrolls_and_cells_do_not_wrap(world, phone):
    receipts = _seed(world)
    _login(phone, world)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # the page itself never scrolls sideways
    scroller = phone.locator("main .scroll").first
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls within its box
    line = phone.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    text_height = "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect().height }"
    for cell in phone.locator("td.nowrap").all():
        assert cell.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
        assert cell.evaluate(text_height) < 2 * line  # one line: codes and dates never wrap
    # The text column keeps a readable width instead of one character a line.
    content = phone.locator("td.content").first
    assert content.bounding_box()["width"] > 8 * 16 and content.evaluate(text_height) < 6 * line
    assert phone.locator(f"td.nowrap:has-text('{receipts[0]}')").count() == 1


def test_on_a_360px_phone_the_navigation_fits_and_links_stay_whole(world, phone):
    _login(phone, world)
    header = phone.locator("header")
    assert header.evaluate("e => e.scrollWidth <= e.clientWidth")
    line = phone.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    for link in header.locator("nav a").all():
        box = link.bounding_box()
        assert box["height"] < 2 * line and box["x"] + box["width"] <= 360
    assert header.locator("a[href='/posters/']").count() == 1


def test_on_a_360px_phone_record_actions_are_stacked(world, phone):
    _seed(world, 1)
    _login(phone, world)
    phone.locator("td.nowrap a").first.click()
    phone.wait_for_selector("h2:has-text('办理')")
    forms = phone.locator(".actions form")
    assert forms.first.evaluate("e => getComputedStyle(e).flexDirection") == "column"
    for form in forms.all():
        assert form.bounding_box()["x"] + form.bounding_box()["width"] <= 360


def test_on_a_360px_phone_a_duplicate_is_merged_from_its_suggestion_through_the_confirm_page(world, phone):
    receipts = _seed(world, 2)
    _login(phone, world)
    phone.locator(f"td.nowrap a:has-text('{receipts[1]}')").click()
    phone.wait_for_selector("h2:has-text('可能重复')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # the hints table scrolls in its box
    hint = phone.locator("table[data-hints] tbody tr")
    assert hint.count() == 1 and receipts[0] in hint.inner_text()
    hint.locator("button:has-text('合并到此条')").click()
    phone.wait_for_selector("h1:has-text('确认')")
    assert receipts[0] in phone.locator(".confirm").inner_text()
    phone.locator(".confirm button[type=submit]").click()
    phone.wait_for_selector("h2:has-text('办理')")
    assert "本条已合并到" in phone.locator("main").inner_text()


def _axe(page) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_every_office_page_has_no_serious_or_critical_axe_violation(world, browser):
    receipts = _seed(world, 2)
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script the CSP would refuse
    page = context.new_page()
    try:
        page.goto(world.server.url + "/office/login")
        found = {"login": _axe(page)}
        _login(page, world)
        today = datetime.now(timezone(timedelta(hours=8))).date()
        pages = {
            "records": "/office/records",
            "records_filtered": "/office/records?q=%E5%9B%AD%E5%8C%BA&status=received",
            "reports": "/office/reports",
            "weekly": f"/office/reports/weekly?date={today.isoformat()}",
            "monthly": f"/office/reports/monthly?month={today.strftime('%Y-%m')}",
            "bad_date": "/office/reports/weekly?date=9999-12-31",
            "not_found": "/office/no-such-page",
        }
        for name, path in pages.items():
            page.goto(world.server.url + path)
            found[name] = _axe(page)
        page.goto(world.server.url + "/office/records")
        page.click(f"text={receipts[0]}")
        page.wait_for_selector("h2:has-text('办理')")
        found["record"] = _axe(page)
        assert page.locator("table[data-hints] a").count() == 1  # the other seeded record: 可能重复 checked too
        page.locator(".actions form:has(input[name=action][value=merge]) input[name=into]").fill(receipts[1])
        page.locator(".actions form:has(input[name=action][value=merge]) button[type=submit]").click()
        page.wait_for_selector("h1:has-text('确认')")
        found["confirm"] = _axe(page)
    finally:
        context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}
