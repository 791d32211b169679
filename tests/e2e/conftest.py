"""Browser tests: Playwright drives Debian's Chromium against the real server serving
the real built site. Each test gets its own site folder, inbox and server; each worker
shares one browser (pytest-playwright's session-scoped `browser`) and one build of the
sample site, which every test copies."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from build_scripts.publish import build_site
from minqing.browser import CHROMIUM, wait_until
from minqing.server_process import ServerProcess
from sync_server.store.embedded.inbox import Inbox
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY

STATION = "rulin-industrial-park"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # pytest-playwright has no option for the executable; `playwright install` cannot
    # download a browser here, so point it at Debian's.
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def world(tmp_path, built_site):
    """A registry copy, its built site and a running server, torn down after the test.

    The site is a copy of the session's build of the same registry (a build is seconds,
    a copy a tenth of one); `World.rebuild` builds this copy anew after a test changed
    the registry."""
    registry = tmp_path / "stations.yml"
    shutil.copy(SAMPLE_REGISTRY, registry)
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    server = ServerProcess(tmp_path / "data", site, registry).start()
    world = World(tmp_path, registry, site, server)
    yield world
    server.stop()


class World:
    def __init__(self, root: Path, registry: Path, site: Path, server: ServerProcess) -> None:
        self.root, self.registry, self.site, self.server = root, registry, site, server

    def station_url(self, station: str = STATION) -> str:
        return f"{self.server.url}/s/{station}/"

    def stored(self) -> Counter:
        """How many times each submission text is stored in the inbox."""
        with Inbox(self.server.data_dir, writer=False) as inbox:
            return Counter(r["feeling"] for r in inbox.records())

    def rebuild(self) -> None:
        build_site(MKDOCS_YML, self.registry, self.site)


def wait_ready(page) -> None:
    page.wait_for_selector("html[data-form-ready]", state="attached")


def wait_worker(page) -> None:
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)
    # The page stores itself for offline use once the worker is ready.
    wait_until(page, "caches.open('minqing-pages').then(c => c.match(location.pathname)).then(Boolean)")


def submit(page, feeling: str, rating: str | None = "fair") -> None:
    if rating:
        page.check(f"input[name=rating][value={rating}]")
    page.fill("textarea[name=feeling]", feeling)
    page.click("button[type=submit]")


def outbox_count(page) -> int:
    return int(page.locator("[data-outbox-count]").first.inner_text())


def wait_count(page, expected: int, timeout: float = 15000) -> None:
    page.wait_for_function(
        f"() => document.querySelector('[data-outbox-count]').textContent === '{expected}'",
        timeout=timeout,
        polling=100,  # not animation frames: a background tab has none
    )


def open_station(page, world, station: str = STATION, worker: bool = False) -> None:
    """Load a station page and wait until its form (and, if asked, its worker) is ready."""
    page.goto(world.station_url(station))
    wait_ready(page)
    if worker:
        wait_worker(page)


def queue_offline(context, page, texts: list[str]) -> None:
    """Go offline and submit one record per text; each is saved on the device."""
    context.set_offline(True)
    for n, text in enumerate(texts, 1):
        submit(page, text)
        wait_count(page, n)


# Every finished upload run of the page, with its result and the page's clock: the
# positive signal that an upload which could have happened has had its chance.
_SYNC_RUNS = """(() => {
    if (window.__syncRuns) return;
    window.__syncRuns = [];
    addEventListener('minqing-sync', (event) => {
        if (event.detail.phase === 'done') window.__syncRuns.push({ at: Date.now(), ...event.detail.result });
    });
})()"""


def record_sync_runs(page) -> None:
    """Log the page's finished upload runs, from now on and after every navigation."""
    page.add_init_script(_SYNC_RUNS)
    page.evaluate(_SYNC_RUNS)


def page_now(page) -> float:
    return page.evaluate("Date.now()")


def wait_sync_run(page, after: float, timeout: float = 15000) -> dict:
    """Wait for an upload run that finished at or after `after` (page clock, ms); return it."""
    page.wait_for_function("(after) => window.__syncRuns.some((r) => r.at >= after)", arg=after,
                           timeout=timeout, polling=100)
    return page.evaluate("(after) => window.__syncRuns.find((r) => r.at >= after)", after)


def load_outbox_module(page) -> None:
    """The page runs its outbox inlined; `waiting_in_outbox` reads it through the module
    file. A test that will stop the server loads that file first, while it can."""
    page.evaluate("import('/js/outbox.js').then(() => true)")


def waiting_in_outbox(page) -> int:
    """The outbox's own count of waiting records, read from IndexedDB, not the page's text
    (see `load_outbox_module`)."""
    return page.evaluate("import('/js/outbox.js').then((m) => m.counts()).then((c) => c.waiting)")
