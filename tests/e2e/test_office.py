"""An office worker logs in, triages a record from 已收到 to 已回访, and the citizen's
look-up page shows the public reply."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sync_server.store.embedded.accounts import Accounts
from tests.e2e.conftest import open_station, submit


def _act(page, action: str, **fields) -> None:
    form = page.locator(f"form:has(input[name=action][value={action}])")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.check()
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")


def test_office_triages_a_record_to_followed_up_and_the_citizen_sees_the_reply(world, page):
    Accounts(world.server.data_dir).add("amy", "correct-horse-battery", "staff", "王干事")
    open_station(page, world)
    page.click("summary")  # a consenting phone: 回访 is offered only where one is stored
    page.fill("input[name=phone]", "13812345678")
    page.check("input[name=consent]")
    submit(page, "园区门口晚上有人聚集闹事", rating="dissatisfied")
    page.wait_for_selector("text=已提交")
    receipt = page.locator(".mq-receipt").inner_text()

    page.goto(world.server.url + "/office/")
    page.fill("input[name=name]", "amy")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_selector("text=收件箱")
    page.click(f"text={receipt}")
    page.wait_for_selector("text=园区门口晚上有人聚集闹事")

    _act(page, "accept")
    in_a_month = datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=30)  # never a past one
    _act(page, "assign", department="police", deadline=in_a_month.isoformat(), track="immediate")
    page.click("button:has-text('确认交办')")  # it moves the matter: asked again, on a plain form
    page.wait_for_load_state("load")
    page.wait_for_selector("[data-done]:has-text('已交办')")
    _act(page, "start", weekly="yes")
    _act(page, "reply", public_reply="已加强园区夜间巡逻。")
    _act(page, "close", outcome="resolved")
    page.click("button:has-text('确认办结')")  # the second step, a plain form
    page.wait_for_load_state("load")
    _act(page, "follow_up", satisfaction="satisfied")
    assert page.locator("table").first.locator("text=已回访").count() == 1
    assert page.locator("text=已加强园区夜间巡逻。").count() >= 1
    history = page.locator("h2:has-text('处理记录') + div table tbody tr")
    assert history.count() == 6

    page.goto(world.server.url + "/status/")
    page.fill("input[name=code]", receipt)
    page.click("form#lookup button[type=submit]")
    page.wait_for_selector("[data-lookup-result] >> text=已加强园区夜间巡逻。")
    # The look-up's answer (我的回执 below it shows the status this phone last saw, too).
    assert page.locator("[data-lookup-result] >> text=已回访").count() == 1
    assert "聚集闹事" not in page.content()


def test_office_pages_never_land_in_the_service_workers_cache(world, page):
    Accounts(world.server.data_dir).add("amy", "correct-horse-battery", "staff")
    open_station(page, world, worker=True)
    page.goto(world.server.url + "/office/login")
    page.fill("input[name=name]", "amy")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_selector("text=收件箱")
    page.goto(world.server.url + "/office/reports")
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
        }
        return urls;
    }""")
    assert cached and not [url for url in cached if "/office/" in url]
