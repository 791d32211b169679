"""Uploads in a real browser: a server that never answers does not stop the next sync,
and nothing a citizen's browser sends outlives one upload."""

from __future__ import annotations

import json

import pytest

from minqing.browser import wait_until
from sync_server.store.embedded.inbox import Inbox
from tests.e2e.conftest import open_station, queue_offline, submit, wait_count

SYNC = "import('/js/sync.js').then(m => m.syncOutbox(''))"


def _records(world) -> list[dict]:
    with Inbox(world.server.data_dir, writer=False) as inbox:
        return list(inbox.records())


# The page's own upload is the one held here: with a service worker, its background sync
# (fired when the context comes online) may send the record first, unseen by page.route.
@pytest.mark.browser_context_args(service_workers="block")
def test_a_server_that_accepts_and_never_answers_does_not_stop_the_next_sync(world, context, page):
    page.clock.install()
    open_station(page, world)
    queue_offline(context, page, ["服务器不回答"])
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # from here the test moves time
    hung: list = []
    # The connection is accepted and the request read; no answer ever comes.
    page.route("**/api/submissions/batch", lambda route: hung.append(route))
    context.set_offline(False)
    # Coming online starts an upload of its own (the page's `online` trigger); this call
    # joins it, once sync.js is loaded. Wait for the call itself before the clock moves:
    # a call that came only after the 30 s had run out would start a second upload, whose
    # deadline the paused clock never reaches.
    page.evaluate("""() => { import('/js/sync.js').then((m) => {
        m.syncOutbox('').then((r) => (window.firstResult = r));
        window.syncCalled = true;
    }); }""")
    page.wait_for_function("() => window.syncCalled === true", timeout=15000, polling=100)
    wait_until(page, "navigator.locks.query().then(s => s.held.length === 1)")
    # The lock comes a few IndexedDB reads before the request: wait for the request itself.
    for _ in range(300):
        if hung:
            break
        page.wait_for_timeout(50)
    assert hung  # the request reached the "server"
    page.clock.run_for(29_000)
    assert page.evaluate("window.firstResult === undefined")  # still waiting, as it should
    page.clock.run_for(2_000)
    wait_until(page, "window.firstResult !== undefined")
    result = page.evaluate("window.firstResult")
    assert result["ok"] is False and result["error"]["code"] == "timeout"
    assert "服务器没有回应" in result["error"]["message"]
    wait_until(page, "navigator.locks.query().then(s => s.held.length === 0)")  # the lock was given up

    page.unroute("**/api/submissions/batch")
    second = page.evaluate(SYNC)
    assert second["ok"] and second["sent"] == 1
    assert [r["feeling"] for r in _records(world)] == ["服务器不回答"]
    assert page.evaluate("import('/js/sync.js').then(m => m.UPLOAD_TIMEOUT_MS)") == 30_000


def _flat(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flat(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _flat(item, f"{path}[{n}]")
    else:
        yield path, json.dumps(value, ensure_ascii=False)


def test_two_reports_from_one_browser_share_nothing_a_third_browsers_report_lacks(world, browser):
    sent_ids: list[str] = []

    def report(context, text: str) -> None:
        page = context.new_page()
        open_station(page, world)
        submit(page, text)
        page.wait_for_selector("text=已提交")
        wait_count(page, 0)
        page.close()

    one, other = browser.new_context(), browser.new_context()
    # On the context, not the page: the service worker may be the one that uploads.
    for context in (one, other):
        context.on("request", lambda r: sent_ids.append(json.loads(r.post_data)["device_id"])
                   if r.url.endswith("/api/submissions/batch") else None)
    report(one, "同一个浏览器的第一条")
    report(one, "同一个浏览器的第二条")
    report(other, "另一个浏览器的一条")
    left = one.new_page()
    open_station(left, world)
    stored_meta = left.evaluate("import('/js/outbox.js').then(m => m.getMeta('device'))")
    one.close()
    other.close()

    by_text = {r["feeling"]: set(_flat(r)) for r in _records(world)}
    first, second, third = by_text["同一个浏览器的第一条"], by_text["同一个浏览器的第二条"], by_text["另一个浏览器的一条"]
    assert _only_the_minute((first & second) - third), (first & second) - third
    # No id the browser sent is kept for a later upload, nor anywhere in the data folder.
    assert stored_meta is None
    assert len(sent_ids) == len(set(sent_ids)) >= 3
    for path in world.server.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(device.encode() in content for device in sent_ids), path


def _only_the_minute(shared: set) -> bool:
    """What two records share beyond a third browser's: nothing, or at most the arrival
    minute, which every record of that minute has (the third may fall in the next one)."""
    return all(path == ".received_at" and value.endswith(':00+00:00"') for path, value in shared)


def test_two_reports_queued_offline_in_one_browser_and_sent_in_one_batch_share_nothing_more(world, browser):
    # The citizen writes twice with no signal; when it returns, one upload carries both.
    one = browser.new_context(service_workers="block")  # the page's own upload, seen here
    page = one.new_page()
    sizes: list[int] = []
    page.on("request", lambda r: sizes.append(len(json.loads(r.post_data)["submissions"]))
            if r.url.endswith("/api/submissions/batch") else None)
    open_station(page, world, worker=False)
    queue_offline(one, page, ["离线写下的第一条", "离线写下的第二条"])
    one.set_offline(False)
    wait_count(page, 0)
    other = browser.new_context(service_workers="block")
    elsewhere = other.new_page()
    open_station(elsewhere, world, worker=False)
    submit(elsewhere, "别人浏览器的一条")
    elsewhere.wait_for_selector("text=已提交")
    wait_count(elsewhere, 0)
    one.close()
    other.close()

    assert 2 in sizes  # both went in one batch
    by_text = {r["feeling"]: set(_flat(r)) for r in _records(world)}
    first, second, third = by_text["离线写下的第一条"], by_text["离线写下的第二条"], by_text["别人浏览器的一条"]
    assert _only_the_minute((first & second) - third), (first & second) - third
