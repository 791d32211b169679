"""A citizen at the edge of the signal: no service worker (an iOS in-app browser), and
a station page never visited before, opened with no signal at all."""

from __future__ import annotations

from minqing.browser import wait_until
from minqing.server_process import ServerProcess
from sync_server.store.embedded.inbox import Inbox
from tests.e2e.conftest import open_station, submit, wait_count

OTHER = "jintan-east-bus"


def test_without_a_service_worker_the_page_says_what_happens_and_sends_when_the_signal_returns(world, browser):
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    open_station(page, world)
    context.set_offline(True)
    submit(page, "没有后台也能送到")
    wait_count(page, 1)
    status = page.locator("[data-status]")
    assert "请保持本页打开，有信号时会自动发送；也可以稍后再打开本页" in status.inner_text()
    context.set_offline(False)  # the page's own `online` trigger, nothing from a test
    page.wait_for_function("() => document.querySelector('[data-status]').textContent.includes('已提交')", timeout=15000)
    assert page.locator("[data-outbox-line]").is_hidden()
    assert world.stored() == {"没有后台也能送到": 1}
    context.close()


def test_a_never_visited_station_and_the_look_up_open_offline_after_one_page(world, context, page):
    open_station(page, world, worker=True)
    # The worker fetches its offline set (shell, station list, look-up, offline page) once active.
    for path in ("/stations.json", "/s/_shell/", "/status/", "/offline/"):
        wait_until(page, "(path) => caches.match(path).then(Boolean)", 30, arg=path)
    # Truly offline: the server is gone, so even the worker's own fetches fail.
    world.server.stop()
    context.set_offline(True)

    page.goto(world.station_url(OTHER))
    page.wait_for_selector("html[data-form-ready]", state="attached")
    assert page.locator("h1").inner_text() == "金坛汽车东站"
    assert page.title().startswith("金坛汽车东站")
    assert page.locator("form#feedback input[name=station_id]").input_value() == OTHER
    assert "交通运输领域" in page.locator("legend").inner_text()
    submit(page, "没来过的哨点也能填")
    wait_count(page, 1)

    page.goto(world.server.url + "/status/")
    assert page.locator("h1").inner_text() == "查询进度"
    page.goto(world.server.url + "/sectors/education-health/")
    assert page.locator("h1").inner_text() == "现在没有网络"
    page.goto(world.server.url + "/s/no-such-post/")
    assert page.locator("h1").inner_text() == "现在没有网络"

    restarted = ServerProcess(world.server.data_dir, world.site, world.registry, port=world.server.port).start()
    try:
        context.set_offline(False)
        page.goto(world.station_url(OTHER))
        wait_count(page, 0)
        with Inbox(world.server.data_dir, writer=False) as inbox:
            [record] = list(inbox.records())
        assert record["station_id"] == OTHER and record["feeling"] == "没来过的哨点也能填"
    finally:
        restarted.stop()


def test_the_forms_code_arrives_with_its_page_and_queues_when_the_signal_drops_at_once(world, browser):
    # The signal lasts for the page and nothing more: every module request fails. The
    # form's code is in the page (build_scripts/inline_modules.py), so the offline queue
    # works all the same; with modules fetched on their own, the form would be the plain
    # POST, and the citizen's words lost to the browser's error page.
    context = browser.new_context(service_workers="block")
    asked: list[str] = []

    def no_modules(route):
        asked.append(route.request.url)
        route.abort()

    context.route("**/js/*.js", no_modules)
    page = context.new_page()
    open_station(page, world)
    context.set_offline(True)
    submit(page, "页面到了，信号就断了")
    wait_count(page, 1)
    assert "已保存在本机" in page.locator("[data-status]").inner_text()
    # Only what may come later was asked for: the worker's registration and sealing.
    assert {url.rsplit("/", 1)[-1] for url in asked} <= {"sw-register.js", "seal.js"}
    context.unroute("**/js/*.js")
    context.set_offline(False)
    page.wait_for_function("() => document.querySelector('[data-status]').textContent.includes('已提交')", timeout=15000)
    assert world.stored() == {"页面到了，信号就断了": 1}
    context.close()
