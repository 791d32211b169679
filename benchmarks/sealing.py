"""Sealed records: the cost of sealing in the page (Chromium, and with the CPU slowed 4x
like a cheap phone), on the server, ingest sealed against plain, and the office's
unlock and search of 100,000 sealed records through the real server over HTTP.

The search figures: a staff member logs in (scrypt at the stated cost, then the sector
keys), the clock starts at the log-in request; `*_first_page_s` is when the first list
page has answered, `*_search_100k_s` when a search by a sealed word finds every
matching record and the list no longer says the search is incomplete. Measured twice
on one data folder: the first log-in ever (`open_first_*`: one HPKE open per record,
quick-open copies written as it goes), then after a restart (`open_quick_*`: the
copies). `python -m benchmarks.sealing` runs it alone and prints each figure against
its target with the load average. The smoke seals a few records and searches 1,000
(see SMOKE); log-in keeps its real scrypt cost.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

from benchmarks.common import SAMPLE_REGISTRY, load_average
from minqing.browser import CHROMIUM
from minqing.server_process import ServerProcess
from sync_server.sealing import envelope

METRICS = ("seal_page_ms", "seal_page_cpu4x_ms", "seal_server_ms", "open_ms", "ingest_plain_per_s",
           "ingest_sealed_on_arrival_per_s", "ingest_browser_sealed_per_s", "unlock_at_login_s",
           "open_first_login_s", "open_first_first_page_s", "open_first_search_100k_s",
           "open_quick_login_s", "open_quick_first_page_s", "open_quick_search_100k_s")
# Records sealed in the page and on the server, opened, ingested per mode, searched.
FULL = {"records": 200, "opened": 10_000, "ingested": 3000, "searched": 100_000}
SMOKE = {"records": 3, "opened": 20, "ingested": 200, "searched": 1000}
FEELING = "工业园区门口晚上有人收“保护费”，商户都不敢说，希望有关部门管一管。" * 3
CLEAR = {"id": "0c6a5b3e-4f1d-4c2a-9e7b-000000000001", "station_id": "rulin-industrial-park",
         "created_at": "2026-11-28T08:10:00.000Z", "rating": "dissatisfied"}

SEAL_IN_PAGE = """async ([n, clear, words, key]) => {
  const seal = await import('/js/seal.js');
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await seal.sealSubmission({...clear, id: clear.id + i}, words, key);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""


def _page_ms(site: Path, key: envelope.PublicKey, records: int) -> tuple[float, float]:
    words = {"feeling": FEELING, "suggestion": "请加强夜间巡逻。", "phone": "13912345678"}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        server = ServerProcess(Path(tmp) / "data", site, SAMPLE_REGISTRY).start()
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page()
            page.goto(server.url + "/")
            fast = page.evaluate(SEAL_IN_PAGE, [records, CLEAR, words, key.as_json()])
            cdp = page.context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            slow = page.evaluate(SEAL_IN_PAGE, [records, CLEAR, words, key.as_json()])
            browser.close()
        finally:
            server.stop()
    return fast, slow


def _ingest_per_s(mode: str, ingested: int) -> float:
    """Records per second through the real intake (batches of 100, one durable write per
    batch): plain with no keys, plain sealed on arrival, or sealed in the browser."""
    import asyncio
    import uuid

    from sync_server.intake.writer import Intake
    from sync_server.sealing.keyring import Keyring
    from sync_server.stations import StationBook
    from sync_server.store.embedded.inbox import Inbox

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        public = None
        if mode != "plain":
            keyring = Keyring(data)
            keyring.init(["public-order"])
            public = keyring.public_keys()["public-order"]
        items = []
        for _ in range(ingested):
            item = {**CLEAR, "id": str(uuid.uuid4()), "feeling": FEELING, "suggestion": "请加强夜间巡逻。",
                    "phone": None, "consent": False}
            items.append(envelope.seal_record(item, public) if mode == "browser" else item)

        async def ingest() -> float:
            with Inbox(data) as inbox:
                intake = Intake(inbox, StationBook(SAMPLE_REGISTRY), inbox.data_dir)
                started = time.perf_counter()
                for n in range(0, ingested, 100):
                    results = await intake.submit("bench", items[n:n + 100])
                    assert all(r.status == "accepted" for r in results)
                return time.perf_counter() - started

        return ingested / asyncio.run(ingest())


def _unlock_s() -> float:
    """Log-in's key work: scrypt at the stated cost, then every sector key opened."""
    from sync_server.sealing.keyring import Keyring

    with tempfile.TemporaryDirectory() as tmp:
        keyring = Keyring(Path(tmp))
        recovery = keyring.unlock_recovery(keyring.init(["public-order", "transport", "market"]))
        keyring.enroll(recovery, "staff", "a-long-password-1", "*")
        started = time.perf_counter()
        keyring.unlock("staff", "a-long-password-1")
        return time.perf_counter() - started


def ingest_figures(ingested: int = FULL["ingested"]) -> dict[str, float]:
    return {
        "ingest_plain_per_s": _ingest_per_s("plain", ingested),
        "ingest_sealed_on_arrival_per_s": _ingest_per_s("server", ingested),
        "ingest_browser_sealed_per_s": _ingest_per_s("browser", ingested),
        "unlock_at_login_s": _unlock_s(),
    }


WORD = "黑车"  # in office_data's generated words
STAFF_PASSWORD = "bench-password-1"


def _seal_segment(job: tuple[str, dict[str, tuple[str, bytes]], dict[str, str]]) -> None:
    from sync_server.store.embedded.tinystore import AtomicJSONStorage

    path, publics, sector_of_station = job
    storage = AtomicJSONStorage(path)
    data = storage.read()
    for table in data.values():
        for key, record in table.items():
            kid, point = publics[sector_of_station[record["station_id"]]]
            table[key] = envelope.seal_record(record, envelope.PublicKey(kid, point))
    storage.write(data)


def _sealed_office(data: Path, searched: int) -> int:
    """100,000 generated records, sealed to their sectors' keys (two processes), a staff
    account holding every key and one holding none. Returns how many hold WORD."""
    from concurrent.futures import ProcessPoolExecutor

    from benchmarks.office_data import generate
    from minqing.registry import load_registry
    from sync_server.sealing.keyring import Keyring
    from sync_server.store.embedded.accounts import Accounts
    from sync_server.store.embedded.inbox import Inbox

    generate(data, searched, accounts=())
    with Inbox(data, writer=False) as inbox:
        hits = sum(WORD in (r["feeling"] + r["suggestion"]) for r in inbox.records())
    registry = load_registry(SAMPLE_REGISTRY)
    keyring = Keyring(data)
    recovery = keyring.unlock_recovery(keyring.init([s.id for s in registry.sectors]))
    publics = {s: (k.kid, k.point) for s, k in keyring.public_keys().items()}
    stations = {s.id: s.sector for s in registry.stations}
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_seal_segment, [(str(p), publics, stations) for p in sorted((data / "inbox").glob("segment-*.json"))]))
    Accounts(data).add("carol", STAFF_PASSWORD, "staff", "赵干事")
    keyring.enroll(recovery, "carol", STAFF_PASSWORD, "*")
    return hits


SEARCH_DEADLINE_S = 1800  # a stuck search fails the step instead of holding the run for ever


def _log_in_and_search(server: ServerProcess, hits: int) -> tuple[float, float, float]:
    from benchmarks.office import Staff, _office_ready

    # The clock starts once the office index is ready (health says so), as a staff member
    # holding no keys would have waited for it; without a log-in (a scrypt) of its own.
    waited = time.perf_counter()
    while not _office_ready(server):
        if time.perf_counter() - waited > SEARCH_DEADLINE_S:
            raise TimeoutError(f"the office index was not ready after {SEARCH_DEADLINE_S} s")
        time.sleep(0.2)
    started = time.perf_counter()
    staff = Staff(server.port, "carol")
    logged_in = time.perf_counter() - started
    status, page = staff.get("/office/records")
    assert status == 200 and "已加密" not in page, "the first page did not open its sealed rows"
    first_page = time.perf_counter() - started
    while True:
        status, page = staff.get("/office/records?" + urlencode({"q": WORD}))
        found = int(re.search(r"共 (\d+) 条", page).group(1))
        if "data-sealed-search" not in page and found == hits:
            break
        if time.perf_counter() - started > SEARCH_DEADLINE_S:
            raise TimeoutError(f"the search for {WORD!r} found {found} of {hits} after {SEARCH_DEADLINE_S} s")
        time.sleep(0.25)  # each look opens the page's 25 rows: not so often that it slows the opening
    searchable = time.perf_counter() - started
    staff.close()
    return logged_in, first_page, searchable


def search_figures(site: Path, searched: int = FULL["searched"]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        hits = _sealed_office(data, searched)
        assert hits, f"no generated record holds {WORD!r}: the search would measure nothing"
        figures = {}
        for label in ("first", "quick"):
            server = ServerProcess(data, site, SAMPLE_REGISTRY).start(timeout=600)
            try:
                login_s, page_s, search_s = _log_in_and_search(server, hits)
            finally:
                server.stop()
            figures.update({f"open_{label}_login_s": login_s, f"open_{label}_first_page_s": page_s,
                            f"open_{label}_search_100k_s": search_s})
        return figures


def run(site: Path, smoke: bool = False) -> dict[str, float]:
    size = SMOKE if smoke else FULL
    private = envelope.generate_private_key()
    public = envelope.public_key_of(private)
    page_ms, page_slow_ms = _page_ms(site, public, size["records"])
    times = []
    for _ in range(size["records"]):
        started = time.perf_counter()
        envelope.seal(CLEAR, FEELING, "请加强夜间巡逻。", "13912345678", public)
        times.append(time.perf_counter() - started)
    sealed = [envelope.seal(CLEAR, FEELING, "", None, public) for _ in range(size["opened"])]
    started = time.perf_counter()
    for one in sealed:
        envelope.open_text(CLEAR, one, private)
    opened_s = time.perf_counter() - started
    return {
        **ingest_figures(size["ingested"]),
        **search_figures(site, size["searched"]),
        "seal_page_ms": page_ms,
        "seal_page_cpu4x_ms": page_slow_ms,
        "seal_server_ms": statistics.median(times) * 1000,
        "open_ms": opened_s / size["opened"] * 1000,
    }


if __name__ == "__main__":
    from benchmarks.common import REPO
    from benchmarks.targets import TARGETS

    print(f"load average before: {load_average()}", flush=True)
    found = run(REPO / "build" / "site")
    print(f"load average after: {load_average()}")
    for metric, value in found.items():
        unit, target, check = TARGETS.get(metric, ("", "", None))
        verdict = "" if check is None else ("ok" if check(found) else "ABOVE TARGET")
        print(f"{metric:<36} {value:10.2f} {unit:<3} {target:<28} {verdict}")
