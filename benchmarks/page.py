"""A station page on a weak signal (400 kbps, 400 ms latency), in Debian's Chromium
against the real server: first visit weight, first paint, form ready, repeat visit
offline, the offline set the worker fetches afterwards; and the same first paint for a
default mkdocs-material page with the same text, built and served in the same run.
The smoke makes one run of each instead of the median of five, on a fast emulated link
(the same emulation, a fraction of the waiting)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.common import SAMPLE_REGISTRY, load_average
from build_scripts.pages import station_page
from minqing.browser import CHROMIUM, wait_until
from minqing.registry import load_registry
from minqing.server_process import ServerProcess

STATION = "rulin-industrial-park"
RUNS = 5
METRICS = ("page_first_visit_kb", "page_offline_set_kb", "page_fcp_ms", "page_form_ready_ms",
           "page_repeat_offline_ms", "baseline_material_fcp_ms")
# 400 kbps down and up, 400 ms round trip: the industrial park on a bad day.
WEAK = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
SMOKE_LINK = {"offline": False, "latency": 20, "downloadThroughput": 5_000_000, "uploadThroughput": 5_000_000}


def _throttled_page(context, link: dict):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", link)
    return page


def _fcp(page) -> float:
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0", polling=50, timeout=30000
    )
    return page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")


# What the worker fetches once active so that any station opens offline (see sw.js):
# after the first visit, by design not part of its budget, and reported on its own.
OFFLINE_SET = ("/", "/s/_shell/", "/offline/", "/status/", "/stations.json", "/js/lookup.js", "/js/mine.js", "/js/verdict.js",
               "/js/kiosk.js")


def _first_visit(browser, url: str, link: dict) -> dict[str, float]:
    context = browser.new_context()
    transferred: list[int] = []
    offline_set: list[int] = []
    origin = url.split("/s/", 1)[0]

    def count(request) -> None:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        (offline_set if request.url.removeprefix(origin) in OFFLINE_SET else transferred).append(size)

    context.on("requestfinished", count)
    page = _throttled_page(context, link)
    page.goto(url, wait_until="load", timeout=60000)
    fcp = _fcp(page)
    page.wait_for_function("() => document.documentElement.dataset.formReady === 'true'", polling=50, timeout=30000)
    ready = page.evaluate("performance.getEntriesByName('minqing-form-ready')[0].startTime")
    # Let the service worker finish its precache: that is part of what a first visit costs.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100, timeout=60000)
    # The worker fetches the offline set after it takes control (sw.js): wait for all of it.
    # Waiting for the network to go idle was not enough, since a page already idle does not
    # wait again: on a busy machine the set weighed 0 KB.
    deadline = time.monotonic() + 60
    while len(offline_set) < len(OFFLINE_SET):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker fetched {len(offline_set)} of the {len(OFFLINE_SET)} offline pages in 60 s")
        page.wait_for_timeout(50)
    context.close()
    return {"fcp": fcp, "ready": ready, "kb": sum(transferred) / 1024, "offline_kb": sum(offline_set) / 1024}


def _repeat_offline(browser, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100, timeout=30000)
    wait_until(page, "caches.open('minqing-pages').then(c => c.match(location.pathname)).then(Boolean)", 30)
    context.set_offline(True)
    page.reload(wait_until="load")
    took = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    context.close()
    return took


def _baseline_site(folder: Path) -> Path:
    """A default mkdocs-material site (font off, search on) holding the station page's text."""
    registry = load_registry(SAMPLE_REGISTRY)
    text = station_page(registry, registry.station(STATION))
    body = text.split("\n---\n", 1)[1]  # drop our front matter: a plain page
    docs = folder / "docs"
    (docs / "s" / STATION).mkdir(parents=True)
    (docs / "s" / STATION / "index.md").write_text(body, "utf-8")
    (docs / "index.md").write_text("# 首页\n", "utf-8")
    (folder / "mkdocs.yml").write_text(textwrap.dedent("""\
        site_name: baseline
        site_url: http://127.0.0.1/
        docs_dir: docs
        site_dir: site
        theme:
          name: material
          language: zh
          font: false
        plugins:
          - search
        """), "utf-8")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(str(folder / "mkdocs.yml")))
    return folder / "site"


def run(site_dir: Path, smoke: bool = False, runs: int | None = None, report=None) -> dict[str, float]:
    runs = runs or (1 if smoke else RUNS)
    link = SMOKE_LINK if smoke else WEAK
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        root = Path(folder)
        browser = p.chromium.launch(executable_path=CHROMIUM)
        baseline_site = _baseline_site(root / "baseline")
        ours = ServerProcess(root / "data", site_dir, SAMPLE_REGISTRY).start()
        theirs = ServerProcess(root / "data-baseline", baseline_site, SAMPLE_REGISTRY).start()
        try:
            url = f"{ours.url}/s/{STATION}/"
            visits, offline, baseline = [], [], []
            # Interleaved, so a burst of load on a shared machine weighs on both sides alike.
            for _ in range(runs):
                visits.append(_first_visit(browser, url, link))
                offline.append(_repeat_offline(browser, url))
                context = browser.new_context(service_workers="block")
                page = _throttled_page(context, link)
                page.goto(f"{theirs.url}/s/{STATION}/", wait_until="load", timeout=60000)
                baseline.append(_fcp(page))
                context.close()
                if report:
                    report(visits[-1], offline[-1], baseline[-1])
        finally:
            ours.stop()
            theirs.stop()
            browser.close()
    return {
        "page_first_visit_kb": statistics.median(v["kb"] for v in visits),
        "page_offline_set_kb": statistics.median(v["offline_kb"] for v in visits),
        "page_fcp_ms": statistics.median(v["fcp"] for v in visits),
        "page_form_ready_ms": statistics.median(v["ready"] for v in visits),
        "page_repeat_offline_ms": statistics.median(offline),
        "baseline_material_fcp_ms": statistics.median(baseline),
    }


if __name__ == "__main__":
    from benchmarks.common import REPO
    from benchmarks.targets import TARGETS

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    print(f"load average before: {load_average()}", flush=True)

    def each(visit, offline, baseline):
        print(f"  run: fcp {visit['fcp']:.0f} ms, ready {visit['ready']:.0f} ms, first visit {visit['kb']:.1f} KB, "
              f"offline set {visit['offline_kb']:.1f} KB, repeat offline {offline:.0f} ms, material fcp {baseline:.0f} ms"
              f"  (load {load_average()})", flush=True)

    found = run(REPO / "build" / "site", runs=runs, report=each)
    print(f"load average after: {load_average()}")
    print(f"medians of {runs} runs:")
    for metric, value in found.items():
        unit, target, check = TARGETS[metric]
        verdict = "" if check is None else ("ok" if check(found) else "ABOVE TARGET")
        print(f"{metric:<28} {value:8.1f} {unit:<3} {target:<20} {verdict}")
