"""The form as a citizen meets it: checks in Chinese before anything is queued, a double
tap that queues once, a page without JavaScript, and nothing from a third-party host."""

from __future__ import annotations

from urllib.parse import urlparse

from sync_server.inbox import Inbox
from tests.e2e.conftest import open_station, outbox_count, submit
from tests.sync_server.test_receipt import VECTORS


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
    page.wait_for_timeout(500)
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
