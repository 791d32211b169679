"""The form as a citizen meets it: checks in Chinese before anything is queued, a double
tap that queues once, a page without JavaScript, and nothing from a third-party host."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from build_scripts.publish import build_site
from sync_server.sealing.keyring import Keyring
from sync_server.store.embedded.inbox import Inbox
from sync_server.words import FORBIDDEN
from tests.conftest import MKDOCS_YML
from tests.e2e.conftest import open_station, outbox_count, submit, wait_count
from tests.e2e.test_sealed_submissions import SECTORS
from tests.sync_server.intake.test_form_vectors import VECTORS as FORM_VECTORS
from tests.sync_server.intake.test_receipt import VECTORS


def test_form_has_the_contract_fields_and_labels(world, page):
    open_station(page, world)
    form = page.locator("form#feedback")
    for name in ("rating", "feeling", "suggestion", "phone", "consent"):
        assert form.locator(f"[name={name}]").count() >= 1
    assert form.locator("button[type=submit]").count() == 1
    for field in ("feeling", "suggestion", "phone"):
        field_id = form.locator(f"[name={field}]").get_attribute("id")
        assert page.locator(f"label[for={field_id}]").count() == 1


def test_empty_form_is_refused_in_chinese_and_nothing_is_queued(world, page):
    open_station(page, world)
    page.click("button[type=submit]")
    assert page.locator("[data-error-for=form]").inner_text() == "请至少选择满意度，或写下感受或建议。"
    assert outbox_count(page) == 0 and world.stored() == {}


def test_phone_without_consent_is_refused_next_to_the_field(world, page):
    open_station(page, world)
    page.fill("textarea[name=feeling]", "有电话")
    page.click("summary")
    page.fill("input[name=phone]", "13812345678")
    page.click("button[type=submit]")
    assert "勾选同意回访" in page.locator("[data-error-for=consent]").inner_text()
    page.fill("input[name=phone]", "12345")
    page.click("button[type=submit]")
    assert "电话号码格式不正确" in page.locator("[data-error-for=phone]").inner_text()
    assert world.stored() == {}


def test_text_over_the_limit_is_refused_with_the_count(world, page):
    open_station(page, world)
    page.evaluate("document.querySelector('textarea[name=feeling]').removeAttribute('maxlength')")
    page.fill("textarea[name=feeling]", "长" * 2001)
    page.click("button[type=submit]")
    assert "最多 2000 个字，现在有 2001 个字" in page.locator("[data-error-for=feeling]").inner_text()


def test_double_tap_queues_one_record(world, page):
    open_station(page, world)
    page.fill("textarea[name=feeling]", "连点两下")
    page.locator("button[type=submit]").dblclick()
    page.wait_for_selector("text=已提交")
    # Positive signals, not a pause: the form has finished with every tap it took, and
    # nothing it queued is still waiting, so a second record would be stored by now.
    page.wait_for_selector("form#feedback:not([aria-busy])", state="attached")
    wait_count(page, 0)
    assert world.stored() == {"连点两下": 1}


def test_phone_with_consent_reaches_the_inbox(world, page):
    open_station(page, world)
    page.fill("textarea[name=suggestion]", "请回访我")
    page.click("summary")
    page.fill("input[name=phone]", "138-1234-5678")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已提交")
    with Inbox(world.server.data_dir, writer=False) as inbox:
        [record] = list(inbox.records())
    assert record["phone"] == "13812345678" and record["consent"] is True


def test_without_javascript_the_form_posts_and_reaches_the_inbox(world, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(world.station_url())
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=feeling]", "没有脚本也能提交")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已提交")
    receipt = page.locator(".receipt").inner_text()
    context.close()
    assert world.stored() == {"没有脚本也能提交": 1}
    assert len(receipt) == 11


def test_receipt_code_in_the_browser_matches_the_server(world, page):
    open_station(page, world)
    for submission_id, code in VECTORS.items():
        got = page.evaluate("(id) => import('/js/receipt.js').then(m => m.receiptFor(id))", submission_id)
        assert got == code


def test_pages_load_nothing_from_another_host(world, page):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    for path in ("/", "/s/rulin-industrial-park/", "/sectors/transport/", "/status/", "/posters/"):
        page.goto(world.server.url + path)
        page.wait_for_load_state("networkidle")
    assert hosts == {urlparse(world.server.url).netloc}


def test_receipt_look_up_page_shows_the_public_status(world, page):
    open_station(page, world)
    submit(page, "查询我的进度")
    page.wait_for_selector("text=已提交")
    code = page.locator(".mq-receipt").inner_text()
    page.goto(world.server.url + "/status/")
    page.fill("input[name=code]", code.lower())
    page.click("form#lookup button[type=submit]")
    page.wait_for_selector("text=已收到")
    assert "查询我的进度" not in page.content()


def test_without_javascript_a_refused_form_keeps_what_was_typed(world, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(world.station_url())
    page.check("input[name=rating][value=fair]")
    page.fill("textarea[name=feeling]", "我写了很长一段话")
    page.fill("textarea[name=suggestion]", "还有建议")
    page.click("summary")
    page.fill("input[name=phone]", "13812345678")
    page.click("button[type=submit]")  # no consent: refused
    page.wait_for_selector("[data-error-for=consent]:has-text('勾选同意回访')")
    assert page.locator("textarea[name=feeling]").input_value() == "我写了很长一段话"
    assert page.locator("textarea[name=suggestion]").input_value() == "还有建议"
    assert page.locator("input[name=phone]").input_value() == "13812345678"
    assert page.locator("input[name=rating][value=fair]").is_checked()
    consent = page.locator("input[name=consent]")
    assert consent.get_attribute("aria-invalid") == "true"
    assert "mq-error-consent" in consent.get_attribute("aria-describedby")
    consent.check()
    page.click("button[type=submit]")
    page.wait_for_selector("text=已提交")
    context.close()
    assert world.stored() == {"我写了很长一段话": 1}


def test_the_form_carries_its_limits_in_the_html(world, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(world.station_url())
    for name in ("feeling", "suggestion"):
        assert page.locator(f"textarea[name={name}]").get_attribute("maxlength") == "2000"
    phone = page.locator("input[name=phone]")
    assert phone.get_attribute("inputmode") == "tel" and phone.get_attribute("maxlength") == "20"
    page.click("summary")
    for good in ("13812345678", "138-1234-5678", "+86 138 1234 5678", "(0519)82345678"):
        phone.fill(good)
        assert phone.evaluate("e => e.validity.valid"), good
    phone.fill("abc")
    assert not phone.evaluate("e => e.validity.valid")
    assert page.locator("input[name=code]").count() == 0  # the look-up's field is on its own page
    page.goto(world.server.url + "/status/")
    assert page.locator("input[name=code]").get_attribute("required") is not None
    context.close()


def test_a_counter_appears_near_the_limit_and_a_long_paste_is_not_cut(world, page):
    open_station(page, world)
    counter = page.locator("[data-count-for=feeling]")
    page.fill("textarea[name=feeling]", "字" * 100)
    assert counter.is_hidden()
    page.fill("textarea[name=feeling]", "字" * 1850)
    assert counter.inner_text() == "还可以写 150 个字"
    page.fill("textarea[name=feeling]", "字" * 2100)
    assert page.locator("textarea[name=feeling]").input_value() == "字" * 2100
    assert counter.inner_text() == "已超出 100 个字（最多 2000 个字）"
    page.click("button[type=submit]")
    assert "现在有 2100 个字" in page.locator("[data-error-for=feeling]").inner_text()
    assert page.locator("textarea[name=feeling]").get_attribute("aria-invalid") == "true"


def test_receipt_sits_on_one_line_at_360_px_with_copy_hint_and_look_up_link(world, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    open_station(page, world)
    submit(page, "回执码一行")
    page.wait_for_selector("text=已提交")
    receipt = page.locator("[data-status] .mq-receipt")
    code = receipt.inner_text()
    assert receipt.evaluate("e => e.getClientRects().length") == 1
    assert receipt.evaluate("e => e.getBoundingClientRect().right") <= 360
    assert "请截图保存" in page.locator("[data-status]").inner_text()
    page.click("[data-status] [data-copy]")
    page.wait_for_selector("[data-status] [data-copy]:has-text('已复制')")
    assert page.evaluate("navigator.clipboard.readText()") == code
    page.click("[data-status] a:has-text('查询进度')")
    page.wait_for_selector("[data-lookup-result]:has-text('已收到')")
    assert page.locator("input[name=code]").input_value() == code
    context.close()


def test_a_citizens_page_has_no_volunteer_controls(world, page):
    open_station(page, world)
    for text in ("立即同步", "志愿者模式", "待发送"):
        assert page.get_by_text(text).filter(visible=True).count() == 0, text
    assert page.locator("[data-kiosk-root]").count() == 1


def test_the_page_applies_the_forms_limits_as_the_server_does(world, page):
    # The same vectors as tests/sync_server/intake/test_form_vectors.py, through form.js's own check.
    open_station(page, world)
    # As ASCII JSON text: a lone surrogate would not survive the trip to the page as a string.
    verdicts = page.evaluate("""(text) => import('/js/form.js').then((form) => JSON.parse(text).map((c) => {
        const kinds = Object.keys(form.validate(c.values));
        const kind = kinds[0];
        return kind === undefined ? null : kind === "form" ? "empty" : ["feeling", "suggestion"].includes(kind) ? "text" : kind;
    }))""", json.dumps(FORM_VECTORS))
    assert dict(zip([c["name"] for c in FORM_VECTORS], verdicts, strict=True)) == {c["name"]: c["error"] for c in FORM_VECTORS}


def test_the_page_forbids_exactly_the_characters_the_server_forbids(world, page):
    # Every code point, lone surrogates included, through form.js's FORBIDDEN and words.py's.
    open_station(page, world)
    page_ranges = page.evaluate("""() => import('/js/form.js').then(({ FORBIDDEN }) => {
        const ranges = [];
        for (let code = 0; code <= 0x10ffff; code++) {
            if (!FORBIDDEN.test(String.fromCodePoint(code))) continue;
            const last = ranges[ranges.length - 1];
            if (last && last[1] === code - 1) last[1] = code; else ranges.push([code, code]);
        }
        return ranges;
    })""")
    server = [code for code in range(0x110000) if FORBIDDEN.match(chr(code))]
    assert [c for a, b in page_ranges for c in range(a, b + 1)] == server


@pytest.mark.parametrize("sealing", [False, True], ids=["plain", "sealed"])
def test_the_form_refuses_control_characters_before_anything_is_queued(world, page, sealing):
    if sealing:
        keyring = Keyring(world.root / "data")
        keyring.init(SECTORS)
        build_site(MKDOCS_YML, world.registry, world.site, keyring.public_path)
    # An escape sequence, a right-to-left override, a bell and a C1 control: one server and
    # one site for the four, a fresh page for each so no earlier refusal is read again.
    for words in ["\x1b[2J\x1b[31m假警告", "电话 \u202e8765 4321", "叮\x07", "\x9b31m红字"]:
        open_station(page, world)
        if sealing:
            assert page.evaluate("import('/js/form.js').then(m => m.publishedKeys()).then(k => Object.keys(k.keys).length)")
        submit(page, words)
        assert "含有无法保存的字符" in page.locator("[data-error-for=feeling]").inner_text(), repr(words)
        assert outbox_count(page) == 0 and world.stored() == {}
