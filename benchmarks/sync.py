"""A browser holding 1,000 queued records comes online: seconds until all are
acknowledged, in Debian's Chromium against the real server with its default limits.
The smoke queues 20, once."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.common import SAMPLE_REGISTRY
from benchmarks.page import STATION
from minqing.browser import CHROMIUM, wait_until
from minqing.server_process import ServerProcess

QUEUED = 1000
RUNS = 3
METRICS = ("sync_1000_queued_s",)

FILL = """async (count) => {
  const outbox = await import('/js/outbox.js');
  const { newId } = await import('/js/sync.js');
  for (let n = 0; n < count; n++) {
    await outbox.add({ id: newId(), station_id: '%s', created_at: new Date().toISOString(), rating: 'fair',
      feeling: `平板上第${n}条：园区治安比以前好了。`, suggestion: '希望夜间多巡逻。', phone: null, consent: false });
  }
}""" % STATION


WAITING = "import('/js/outbox.js').then(m => m.counts()).then(c => c.waiting)"

# The page runs its outbox inlined (build_scripts/inline_modules.py), and the module
# files are not in the worker's offline set: FILL and WAITING reach the same IndexedDB
# through the files, which must be in the page's module map before it goes offline
# (an import of a loaded module does not fetch again). The page's own inlined code does
# the upload being measured.
LOAD_MODULES = "Promise.all([import('/js/outbox.js'), import('/js/sync.js')]).then(() => true)"


def _one(browser, url: str, queued: int) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => document.documentElement.dataset.formReady === 'true'")
    page.evaluate(LOAD_MODULES)
    context.set_offline(True)
    page.evaluate(FILL, queued)
    assert page.evaluate(WAITING) == queued
    context.set_offline(False)
    started = time.perf_counter()
    page.evaluate("dispatchEvent(new Event('online'))")
    wait_until(page, f"{WAITING}.then(n => n === 0)", 120)
    took = time.perf_counter() - started
    context.close()
    return took


def run(site_dir: Path, smoke: bool = False) -> dict[str, float]:
    queued, runs = (20, 1) if smoke else (QUEUED, RUNS)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        with ServerProcess(Path(folder) / "data", site_dir, SAMPLE_REGISTRY) as server:
            times = sorted(_one(browser, f"{server.url}/s/{STATION}/", queued) for _ in range(runs))
            stored = server.health()["records"]
            assert stored == queued * runs, f"the server stored {stored} records, not the {queued * runs} acknowledged"
        browser.close()
    return {"sync_1000_queued_s": times[len(times) // 2]}
