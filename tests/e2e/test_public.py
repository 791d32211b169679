"""你说我办 at the post: a matter the office published shows on its post's page and on
the district 成效 page, stays readable offline after a first visit, and is gone for the
next visitor once withdrawn. No third-party request; axe finds nothing serious. (A post
page's first visit, its public list included, is weighed in test_first_visit.py.)"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from minqing.browser import wait_until
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.e2e.conftest import STATION, open_station
from tests.e2e.test_accessibility import PHONE, _serious

TITLE = "工业园区门口夜间聚集问题已整治"
DONE = "派出所增设夜间巡逻点，园区加装照明。"


def _set_publication(world, publication: dict | None) -> None:
    """Write the matter's publication as the office's 公开 / 撤回公开 would, through the
    triage log (the server's alone while it runs: stopped, written, started on the same port)."""
    world.server.stop()
    entry = {**new_entry("2026-11-03T08:00:00+00:00"), "status": "closed", "outcome": "resolved",
             "closed_at": "2026-11-20T08:00:00+00:00", "public_reply": "已处理", "publication": publication,
             "verdict": {"choice": "fair", "source": "receipt", "round": 1, "at": "2026-11-22T08:00:00+00:00",
                         "first_at": "2026-11-22T08:00:00+00:00", "comment": "", "comment_sealed": None}}
    book = TriageBook(world.server.data_dir)
    book.put("matter-1", entry)
    book.close()
    world.server.start()
    deadline = time.monotonic() + 15  # the public list answers once the server has read the log
    while True:
        try:
            with urllib.request.urlopen(world.server.url + "/api/public/matters", timeout=2) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _publish(world) -> None:
    _set_publication(world, {"title": TITLE, "done": DONE, "month": "2026-11", "published_at": "2026-11-21T08:00:00+00:00",
                             "station_id": STATION, "sector": "public-order"})


def _foreign(requests: list[str], world) -> list[str]:
    return [url for url in requests if not url.startswith(world.server.url) and not url.startswith("data:")]


def test_a_publication_shows_at_its_post_and_on_the_results_page_also_offline(world, context, page):
    _publish(world)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    open_station(page, world, worker=True)
    page.reload()  # now through the worker, which keeps the list for offline reading
    page.wait_for_selector("[data-public-ready]")
    block = page.locator("[data-public]")
    assert TITLE in block.inner_text() and DONE in block.inner_text()
    assert "本哨点满意率 100%" in block.inner_text()
    page.goto(world.server.url + f"/results/?station={STATION}")
    assert TITLE in page.locator("main").inner_text()

    # The worker kept both answers by their whole address (not only the browser's HTTP cache).
    for kept in (f"/api/public/matters?station={STATION}", f"/results/?station={STATION}"):
        wait_until(page, "(url) => caches.open('minqing-pages').then(c => c.match(url)).then(Boolean)", arg=kept)
    context.set_offline(True)
    page.goto(world.server.url + f"/results/?station={STATION}")
    assert TITLE in page.locator("main").inner_text()
    page.goto(world.station_url())
    page.wait_for_selector("[data-public-ready]")
    assert TITLE in page.locator("[data-public]").inner_text()
    assert _foreign(requests, world) == []


def test_a_withdrawal_is_gone_for_the_next_visitor(world, browser):
    _publish(world)
    assert _set_publication(world, None)["total"] == 0
    context = browser.new_context()
    page = context.new_page()
    open_station(page, world)
    page.wait_for_selector("[data-public-ready]")
    assert TITLE not in page.locator("[data-public]").inner_text()
    assert "还没有公开的办理结果" in page.locator("[data-public]").inner_text()
    page.goto(world.server.url + "/results/")
    assert TITLE not in page.content() and "暂无公开的办理结果" in page.content()
    context.close()


def test_without_javascript_the_post_links_to_its_results(world, browser):
    _publish(world)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(world.station_url())
    page.click(f"a[href='/results/?station={STATION}']")
    assert TITLE in page.locator("main").inner_text()
    page.select_option("select[name=sector]", "finance")
    page.click("button:has-text('筛选')")
    assert "暂无公开的办理结果" in page.locator("main").inner_text()
    context.close()


@pytest.mark.parametrize("path", ["/results/", f"/results/?station={STATION}", f"/s/{STATION}/"])
def test_public_pages_have_no_serious_accessibility_violation(world, browser, path):
    _publish(world)
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(world.server.url + path)
    if path.startswith("/s/"):
        page.wait_for_selector("[data-public-ready]")
    assert _serious(page) == []
    context.close()
