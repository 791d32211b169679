"""Every public page as people read and reach it: axe-core finds no serious or critical
violation (default and error states), focus is visible at every keyboard stop, the text
that matters is full-size, and the targets fit a thumb on a 360 px phone."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from tests.e2e.conftest import STATION, open_station

AXE = (files("axe_playwright_python") / "axe.min.js").read_text("utf-8")
PHONE = {"width": 360, "height": 740}
PAGES = ["/", "/sectors/transport/", f"/s/{STATION}/", "/s/jincheng-old-market/", "/status/", "/offline/",
         "/no-such-page/", f"/posters/{STATION}.html", "/posters/"]

def _serious(page) -> list[str]:
    page.add_script_tag(content=AXE)
    violations = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in violations if v["impact"] in ("serious", "critical")
    ]

@pytest.fixture
def phone_page(browser):
    # bypass_csp: the test injects axe as an inline script, which the site's policy forbids.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    yield context.new_page()
    context.close()

@pytest.mark.parametrize("path", PAGES)
def test_public_page_has_no_serious_accessibility_violation(world, phone_page, path):
    phone_page.goto(world.server.url + path)
    assert phone_page.locator("html").get_attribute("lang") == "zh-CN"
    assert _serious(phone_page) == []

def test_form_in_its_error_state_has_no_serious_accessibility_violation(world, phone_page):
    open_station(phone_page, world)
    phone_page.fill("textarea[name=feeling]", "有电话")
    phone_page.click("summary")
    phone_page.fill("input[name=phone]", "123")
    phone_page.click("button[type=submit]")
    phone_page.wait_for_selector("[data-error-for=phone]:has-text('格式不正确')")
    assert _serious(phone_page) == []
    phone_page.fill("input[name=phone]", "")
    phone_page.fill("textarea[name=feeling]", "")
    phone_page.click("button[type=submit]")
    phone_page.wait_for_selector("[data-error-for=form]:has-text('至少')")
    assert _serious(phone_page) == []

def _without_own_scripts(route) -> None:
    """The page without its scripts: those in js/ and the form's, which the page carries inline."""
    if route.request.resource_type == "script" and "/js/" in route.request.url:
        route.abort()
    elif route.request.resource_type == "document":
        response = route.fetch()
        route.fulfill(response=response, body=re.sub(r"<script\b[^>]*>.*?</script>", "", response.text(), flags=re.S))
    else:
        route.continue_()


def test_server_pages_have_no_serious_accessibility_violation(world, browser):
    # The no-JavaScript road, with the page's own scripts cut off (axe itself needs JavaScript).
    context = browser.new_context(viewport=PHONE, bypass_csp=True, service_workers="block")
    context.route("**/*", _without_own_scripts)
    page = context.new_page()
    page.goto(world.station_url())
    page.fill("textarea[name=feeling]", "无脚本")
    page.click("summary")
    page.fill("input[name=phone]", "13812345678")
    page.click("button[type=submit]")  # refused: the station's form again, with the message
    page.wait_for_selector("[data-error-for=consent]:has-text('勾选')")
    assert _serious(page) == []
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已提交")
    assert _serious(page) == []
    page.goto(world.server.url + "/status/")
    page.fill("input[name=code]", "22222-22222")
    page.click("form#lookup button[type=submit]")
    page.wait_for_selector("text=没有找到")
    assert _serious(page) == []
    context.close()

def test_keyboard_only_focus_is_visible_at_every_stop_and_skips_the_closed_drawer(world, phone_page):
    open_station(phone_page, world)
    seen = []
    for _ in range(40):
        phone_page.keyboard.press("Tab")
        stop = phone_page.evaluate("""() => {
            const e = document.activeElement;
            if (!e || e === document.body) return null;
            const own = getComputedStyle(e);
            const pill = e.closest('label');
            const ring = (s) => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            return {name: e.getAttribute('name') || e.textContent.trim().slice(0, 12) || e.tagName,
                    inDrawer: Boolean(e.closest('.md-sidebar--primary')),
                    visible: ring(own) || (pill !== null && ring(getComputedStyle(pill)))};
        }""")
        if stop is None or stop in seen[-1:]:
            break
        seen.append(stop)
        if stop["name"] == "提交":
            break
    names = [s["name"] for s in seen]
    assert "rating" in names and "feeling" in names and "提交" in names, names
    assert [s for s in seen if s["inDrawer"]] == []
    assert [s["name"] for s in seen if not s["visible"]] == []

def test_text_and_targets_people_need_are_full_size(world, phone_page):
    phone_page.goto(world.server.url + "/status/")
    field = phone_page.locator("input[name=code]")
    style = field.evaluate("e => { const s = getComputedStyle(e); return [s.fontSize, s.borderTopWidth, s.borderTopStyle] }")
    assert style[0] == "16px" and style[1] != "0px" and style[2] != "none"
    assert field.bounding_box()["height"] >= 44
    open_station(phone_page, world)
    for selector in (".mq-anonymous", ".mq-consent"):
        assert phone_page.locator(selector).evaluate("e => getComputedStyle(e).fontSize") == "16px", selector
    small = phone_page.evaluate("""() => [...document.querySelectorAll(
            '.mq-feedback button, .mq-feedback summary, .mq-rating label, .mq-consent')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map(e => e.textContent.trim().slice(0, 10))""")
    assert small == []

def test_unknown_address_gets_a_chinese_404_with_a_way_home(world, page):
    response = page.goto(world.server.url + "/no/such/page/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "没有找到这个页面"
    page.click("text=回到首页")
    assert page.url == world.server.url + "/"

def test_an_open_station_submits_with_the_keyboard_alone(world, page):
    open_station(page, world)
    page.focus("textarea[name=feeling]")
    page.keyboard.type("只用键盘")
    page.keyboard.press("Tab")
    submit_button = page.locator("button[type=submit]")
    submit_button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=已提交")
    assert world.stored() == {"只用键盘": 1}

