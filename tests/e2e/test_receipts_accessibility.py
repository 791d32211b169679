"""The look-up page's new states on a 360 px phone: 我的回执 with an entry, the answer and
verdict forms, a choice left out, and a queued reply. axe-core finds no serious or
critical violation in any, and every button fits a thumb."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_station, submit
from tests.e2e.receipt_steps import asked, closed
from tests.e2e.test_accessibility import PHONE, _serious


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # axe goes in as an inline script
    yield context
    context.close()


def test_my_receipts_and_the_verdict_forms_have_no_serious_accessibility_violation(world, phone):
    page = phone.new_page()
    open_station(page, world)
    submit(page, "无障碍检查")
    page.wait_for_selector("text=已提交")
    code = page.locator("[data-status] .mq-receipt").inner_text()
    asked(world, code, "请问具体位置？")
    closed(world, code)
    page.goto(f"{world.server.url}/status/#code={code}")
    page.wait_for_selector("form[data-kind=verdict]")
    page.wait_for_selector("[data-mine-list] li")
    assert page.locator("form[data-kind=answer]").count() == 1
    assert _serious(page) == []
    for button in page.locator("[data-mine-list] button, [data-steps] button").all():
        assert button.bounding_box()["height"] >= 44
    page.locator("form[data-kind=verdict] button[type=submit]").click()  # no choice: said why
    page.wait_for_selector("form[data-kind=verdict] .mq-error:has-text('请选择')")
    assert _serious(page) == []
    phone.set_offline(True)
    page.check("form[data-kind=verdict] input[value=fair]")
    page.locator("form[data-kind=verdict] button[type=submit]").click()
    page.wait_for_selector("form[data-kind=verdict] [data-reply-id]")
    assert _serious(page) == []
