"""The outbox in a real browser: offline, restart, a server dying mid-batch, a
republish, a schema upgrade. Each ends with the inbox holding every record once."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Route

from sync_server.store.embedded.inbox import Inbox
from tests.e2e.conftest import (
    STATION,
    load_outbox_module,
    open_station,
    outbox_count,
    page_now,
    queue_offline,
    record_sync_runs,
    submit,
    wait_count,
    wait_ready,
    wait_sync_run,
    wait_worker,
    waiting_in_outbox,
)


def _online(context, page) -> None:
    context.set_offline(False)
    page.evaluate("dispatchEvent(new Event('online'))")


def test_offline_submissions_survive_a_reload_and_upload_once_when_online(world, context, page):
    open_station(page, world, worker=True)
    queue_offline(context, page, [f"离线第{n}条" for n in range(3)])
    assert "已保存在本机" in page.locator("[data-status]").inner_text()
    page.reload()
    wait_ready(page)  # rendered by the service worker: there is no network
    assert page.locator("form#feedback").is_visible()
    assert outbox_count(page) == 3
    _online(context, page)
    wait_count(page, 0)
    assert world.stored() == {"离线第0条": 1, "离线第1条": 1, "离线第2条": 1}


def test_without_a_service_worker_an_offline_reload_fails(world, browser):
    # The control for the test above: the offline page really comes from the worker.
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    open_station(page, world)
    context.set_offline(True)
    try:
        page.reload()
        rendered = page.locator("form#feedback").count() > 0
    except Exception:  # noqa: BLE001 - a failed navigation is the expected outcome
        rendered = False
    context.close()
    assert not rendered


def test_online_submit_says_submitted_with_the_servers_receipt(world, page):
    open_station(page, world)
    submit(page, "在线提交")
    page.wait_for_selector("text=已提交")
    receipt = page.locator(".mq-receipt").inner_text()
    with Inbox(world.server.data_dir, writer=False) as inbox:
        [record] = list(inbox.records())
    assert record["receipt"] == receipt and record["station_id"] == STATION
    assert outbox_count(page) == 0


def test_queued_records_survive_a_browser_restart(world, browser_type, tmp_path):
    profile = tmp_path / "profile"
    launch = dict(executable_path="/usr/bin/chromium", headless=True)
    context = browser_type.launch_persistent_context(profile, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    open_station(page, world)
    wait_worker(page)
    # Truly offline: Playwright's offline mode does not cut the worker's own fetches, and
    # each queued record now asks for a Background Sync that would send it from there.
    world.server.stop()
    context.set_offline(True)
    for n in range(3):
        submit(page, f"重启前第{n}条")
        page.wait_for_selector("text=已保存在本机")
    context.close()

    context = browser_type.launch_persistent_context(profile, offline=True, **launch)
    page = context.pages[0] if context.pages else context.new_page()
    open_station(page, world)
    wait_count(page, 3)
    assert world.stored() == {}
    world.server.start()
    _online(context, page)
    wait_count(page, 0)
    context.close()
    assert world.stored() == {f"重启前第{n}条": 1 for n in range(3)}


# The page's own upload is the one cut here: with a service worker, its background sync
# (fired when the context comes online) may send the records first, unseen by page.route.
@pytest.mark.browser_context_args(service_workers="block")
def test_server_dying_mid_batch_loses_and_doubles_nothing(world, context, page):
    open_station(page, world)
    load_outbox_module(page)  # read below, after the server died
    queue_offline(context, page, [f"中断第{n}条" for n in range(5)])
    record_sync_runs(page)
    cut: dict[str, float] = {}

    def store_then_die(route: Route) -> None:
        # The server stores the batch, then dies before the answer leaves it.
        if cut:
            route.continue_()
            return
        cut["at"] = time.time() * 1000  # the page's clock is this machine's
        route.fetch()
        world.server.kill()
        route.abort("connectionreset")

    page.route("**/api/submissions/batch", store_then_die)
    # The cut request's failure, not an offline retry's that failed before the route saw it.
    with page.expect_event("requestfailed", lambda r: r.url.endswith("/api/submissions/batch") and "at" in cut,
                           timeout=15000):
        _online(context, page)
    # The upload run that was cut has finished: whatever it would delete, it has.
    run = wait_sync_run(page, cut["at"])
    assert not run["ok"] and run["sent"] == 0
    assert waiting_in_outbox(page) == 5  # nothing acknowledged, nothing deleted
    world.server.start()
    page.evaluate("dispatchEvent(new Event('online'))")  # a foreground trigger: the page retries
    wait_count(page, 0)
    assert world.stored() == {f"中断第{n}条": 1 for n in range(5)}


def test_republished_site_shows_new_content_and_uploads_queued_records_once(world, context, page):
    open_station(page, world, worker=True)
    queue_offline(context, page, [f"改版前第{n}条" for n in range(2)])
    text = world.registry.read_text("utf-8")
    world.registry.write_text(text.replace("园区管委会一楼大厅", "园区管委会二楼接待室"), "utf-8")
    world.rebuild()
    _online(context, page)
    wait_count(page, 0)
    record_sync_runs(page)
    reloaded = page_now(page)
    page.reload()
    wait_ready(page)
    assert "园区管委会二楼接待室" in page.content()
    # The new page's own upload at load has run: it found nothing left to send.
    run = wait_sync_run(page, reloaded)
    assert run["ok"] and run["sent"] == 0
    assert world.stored() == {"改版前第0条": 1, "改版前第1条": 1}


def test_version_1_outbox_records_are_upgraded_in_place_and_uploaded(world, page):
    # A page from before the schema change left a record in a version-1 database. The
    # offline page opens no database (the look-up page now does: 我的回执).
    page.goto(f"{world.server.url}/offline/")
    old = {
        "id": "6f1c9a52-1d7e-4c4b-9a39-2b7d3f0e8a11", "station_id": STATION,
        "created_at": "2026-11-24T09:00:00.000Z", "rating": "satisfied",
        "feeling": "旧版本留下的记录", "suggestion": "", "phone": "", "consent": 0,
    }
    page.evaluate(
        """(record) => new Promise((resolve, reject) => {
            const request = indexedDB.open("minqing", 1);
            request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "id" });
            request.onsuccess = () => {
                const tx = request.result.transaction("outbox", "readwrite");
                tx.objectStore("outbox").put(record);
                tx.oncomplete = () => { request.result.close(); resolve(); };
                tx.onerror = () => reject(tx.error);
            };
        })""",
        old,
    )
    open_station(page, world)
    wait_count(page, 0)
    assert world.stored() == {"旧版本留下的记录": 1}


def test_a_version_3_outbox_keeps_its_queued_record_through_the_upgrade_to_my_receipts(world, page):
    # A page from before 我的回执 queued a record in a version-3 database.
    page.goto(f"{world.server.url}/offline/")
    old = {
        "id": "0b7e4f7c-2a51-4f0e-8d0a-5c3e2b9d1f42", "station_id": STATION,
        "created_at": "2026-12-01T09:00:00.000Z", "rating": "fair", "feeling": "第三版留下的记录",
        "suggestion": "", "phone": None, "consent": False, "state": "waiting", "error": None,
    }
    page.evaluate(
        """(record) => new Promise((resolve, reject) => {
            const request = indexedDB.open("minqing", 3);
            request.onupgradeneeded = () => {
                request.result.createObjectStore("outbox", { keyPath: "id" }).createIndex("state", "state");
                request.result.createObjectStore("meta");
            };
            request.onsuccess = () => {
                const tx = request.result.transaction("outbox", "readwrite");
                tx.objectStore("outbox").put(record);
                tx.oncomplete = () => { request.result.close(); resolve(); };
                tx.onerror = () => reject(tx.error);
            };
        })""",
        old,
    )
    open_station(page, world)
    wait_count(page, 0)
    assert world.stored() == {"第三版留下的记录": 1}
    assert page.evaluate("import('/js/outbox.js').then((m) => Promise.all([m.receipts(), m.replies()]))") == [[], []]


def test_two_tabs_never_upload_the_same_record_twice(world, context):
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto(world.station_url())
        wait_ready(page)
    context.set_offline(True)
    first.bring_to_front()  # actions wait on animation frames, which background tabs lack
    for n in range(30):
        submit(first, f"双标签第{n}条")
        wait_count(first, n + 1)
    requests: list[list[str]] = []
    context.on("request", lambda r: requests.append([s["id"] for s in json.loads(r.post_data)["submissions"]])
               if r.url.endswith("/api/submissions/batch") else None)
    context.set_offline(False)
    for page in (first, second):
        page.evaluate("dispatchEvent(new Event('online'))")
    wait_count(first, 0)
    ids = [i for batch in requests for i in batch]
    assert len(ids) == len(set(ids)) == 30
    assert world.stored() == {f"双标签第{n}条": 1 for n in range(30)}


def test_a_rejected_record_stays_marked_with_its_reason_and_is_not_retried(world, page):
    open_station(page, world)
    batches: list[int] = []
    page.on("request", lambda r: batches.append(1) if r.url.endswith("/api/submissions/batch") else None)
    # A record made at a post that is not in the registry (deleted instead of retired).
    page.evaluate("""async () => {
        const outbox = await import('/js/outbox.js');
        const { newId } = await import('/js/sync.js');
        await outbox.add({ id: newId(), station_id: 'deleted-post', created_at: new Date().toISOString(),
                           rating: 'fair', feeling: '被拒收的记录', suggestion: '', phone: null, consent: false });
    }""")
    page.evaluate("dispatchEvent(new Event('online'))")  # a foreground trigger: the page retries
    page.wait_for_selector("[data-rejected] li")
    assert "没有编号为“deleted-post”的民情哨" in page.locator("[data-rejected]").inner_text()
    assert outbox_count(page) == 0  # not waiting: it will not be sent again by itself
    kept = page.evaluate("import('/js/outbox.js').then(m => m.all()).then(rs => rs.map(r => [r.state, r.feeling]))")
    assert kept == [["rejected", "被拒收的记录"]]
    sent = len(batches)
    record_sync_runs(page)
    asked = page_now(page)
    page.evaluate("dispatchEvent(new Event('online'))")  # a foreground trigger: the page retries
    run = wait_sync_run(page, asked)  # the retry has run: a resend would have left by now
    assert run["ok"] and run["sent"] == 0
    assert len(batches) == sent and world.stored() == {}


def test_every_queued_record_asks_for_a_background_sync(world, context, page):
    # The worker uploads with no page open only if a sync is registered after the record
    # is queued; one registered at page load is spent once it has fired.
    page.add_init_script("""(() => {
        const register = SyncManager.prototype.register;
        window.__syncs = 0;
        SyncManager.prototype.register = function (tag) {
            if (tag === 'minqing-outbox') window.__syncs += 1;
            return register.call(this, tag);
        };
    })()""")
    open_station(page, world, worker=True)
    page.wait_for_function("() => window.__syncs >= 1")  # the load's own registration
    before = page.evaluate("window.__syncs")
    queue_offline(context, page, ["后台同步第1条", "后台同步第2条"])
    page.wait_for_function(f"() => window.__syncs >= {before + 2}")
