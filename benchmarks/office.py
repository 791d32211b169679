"""The office at 100,000 records (30% triaged) against the real server: list, filters and
search, a record page, a status change, the reports, start, memory (the server's peak,
and each triage entry's bytes once loaded), and a tablet's
upload while three staff browse. The old full scan (join every record, then filter)
is measured in the same run as the baseline. `python -m benchmarks.office 1000000`
measures one other size and prints it (not written to results.json, so never quoted). The smoke
measures 1,000 records once each, under the 100k names (the results file says smoke)."""

from __future__ import annotations

import gc
import http.client
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.common import REPO, SAMPLE_REGISTRY, load_average, percentile
from benchmarks.office_data import PASSWORD, generate
from minqing.registry import load_registry
from minqing.server_process import ServerProcess
from sync_server.office.readside import ReportRows
from sync_server.office.records import CHINA, Filters, join, local_date, select
from sync_server.office.reports import to_xlsx, weekly
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook

UNTHROTTLED = ("--device-limit", "100000/100000", "--address-limit", "100000/100000")
RESULT_SPANS = ("week", "month", "all")  # the 成效 page (/office/results) of each span
METRICS = (
    "office_list_ms_100k", "office_search_ms_100k", "baseline_office_list_ms_100k", "office_record_ms_100k",
    "office_status_change_ms_100k", "dispatch_one_100k", "office_report_ms_100k",
    *(f"office_report{cached}_ms_{kind}_{fmt}_100k" for cached in ("", "_cached")
      for kind in ("weekly", "monthly") for fmt in ("html", "csv", "xlsx")),
    "baseline_office_report_ms_100k", "office_server_start_s_100k", "office_ready_s_100k", "office_memory_mb_100k",
    "office_triage_bytes_per_entry_100k", "upload_p95_ms_idle_100k", "upload_p95_ms_3_staff_100k",
    "duplicate_hints_100k", "office_export_ms_100k", "department_queue_100k",
)
READY_DEADLINE_S = 3600  # an index that never finishes fails the step instead of holding the run
LISTS = {
    "all": {}, "status": {"status": "accepted"}, "sector": {"sector": "public-order"},
    "station_dates": {"station": "jintan-east-bus", "since": "2026-01-01", "until": "2026-06-30"},
    "overdue": {"overdue": "1"}, "search": {"q": "黑车"}, "search_none": {"q": "没有这句话"},
    "last_page": {"page": "4000"},
}


class Staff:
    """One logged-in office worker over one keep-alive connection."""

    def __init__(self, port: int, name: str = "amy") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.location = ""  # the last answer's Location: where an action sent its page
        page = self.get("/office/login")[1]
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        status, _ = self.post("/office/login", {"name": name, "password": PASSWORD, "token": token})
        assert status == 303, status

    def close(self) -> None:
        self.conn.close()

    def _send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        self.location = response.getheader("Location") or ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, rest = value.split("=", 1)
                self.cookies[name] = rest.split(";", 1)[0].strip('"')
        return response.status, data

    def get(self, path: str) -> tuple[int, str]:
        status, data = self._send("GET", path)
        return status, data.decode("utf-8", "replace")

    def get_bytes(self, path: str) -> tuple[int, bytes]:
        return self._send("GET", path)

    def post(self, path: str, fields: dict) -> tuple[int, bytes]:
        return self._send("POST", path, urlencode(fields).encode(),
                          {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{self.conn.port}"})


def _timed(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def _dispatched(staff: Staff, path: str, fields: dict) -> None:
    status, _ = staff.post(path, fields)
    if status != 303 or "error=" in staff.location:
        raise RuntimeError(f"the dispatch was refused: {status} {staff.location}")


def _ok(status_and_body, expect=200):
    assert status_and_body[0] == expect, status_and_body[0]
    return status_and_body[1]


def _upload(port: int, device: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items = [{"id": str(uuid.uuid4()), "station_id": "rulin-industrial-park", "created_at": now, "rating": "fair",
              "feeling": f"第{n}条：园区治安比以前好了。", "suggestion": "希望夜间多巡逻。", "phone": None, "consent": False}
             for n in range(100)]
    body = json.dumps({"device_id": device, "submissions": items}, ensure_ascii=False).encode()
    started = time.perf_counter()
    conn.request("POST", "/api/submissions/batch", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    took = time.perf_counter() - started
    conn.close()
    assert response.status == 200
    return took


def _uploads_p95(port: int, rounds: int) -> float:
    return 1000 * percentile([_upload(port, "tablet-bench") for _ in range(rounds)], 0.95)


def _office_ready(server: ServerProcess) -> bool:
    try:
        return bool(server.health().get("office_ready"))
    except OSError:  # a health answer slower than its timeout while the index loads
        return False


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _triage_bytes_per_entry(data_dir: Path) -> float:
    """What each triage entry holds in memory once the book is loaded: its compact form,
    its id and its place in the book's dict (the read side shares the same objects)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        book = TriageBook(data_dir)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / max(1, len(book))


def _baseline(data_dir: Path, repeat: int) -> dict[str, float]:
    """The old path: every page joined every record from disk, then filtered. Measured
    `repeat` times for one search and one report only (each costs seconds at 100k, the
    same for every filter): a bounded baseline, not one per case."""
    registry = load_registry(SAMPLE_REGISTRY)
    today = datetime.now(CHINA).date()

    def scan():
        with Inbox(data_dir, writer=False) as inbox:
            return join(inbox.records(), TriageBook(data_dir).all(), registry, today)

    rows = []
    list_ms = _timed(lambda: rows.append(select(scan(), Filters(q="黑车"))), repeat)
    every = scan()
    start = today - timedelta(days=today.weekday())

    def old_report():  # every record joined, every triaged row carried into the pack
        days = [(r, local_date(r.record["received_at"])) for r in every]
        sets = ReportRows(received=[r for r, d in days if start <= d <= start + timedelta(days=6)],
                          changed=[r for r in every if r.triage["history"]],
                          weekly=[r for r in every if r.triage["weekly"]], overdue=[r for r in every if r.overdue])
        return to_xlsx(weekly(sets, today, today=today))

    report_ms = _timed(old_report, 1) + list_ms  # the scan, then the report
    return {"list": list_ms, "report": report_ms}


def _duplicate_hints(data_dir: Path, repeat: int) -> float:
    """可能重复 for one record in the middle of the inbox (a window of days on both sides,
    the most candidates), as its page computes them: the read side loaded from the
    folder, the suggestions over every record of its sector in the window. Median ms."""
    from types import SimpleNamespace

    from sync_server.office.duplicate_lookup import hints_for
    from sync_server.office.readside_index import MemoryReadSide
    from sync_server.store.accounts import Account

    registry = load_registry(SAMPLE_REGISTRY)
    with Inbox(data_dir, writer=False) as inbox:
        readside = MemoryReadSide(inbox.records(), TriageBook(data_dir).all())
    state = SimpleNamespace(readside=readside, stations=SimpleNamespace(registry=registry),
                            opened_words=SimpleNamespace(words_of=lambda unlocked, sees, ids: {}))
    staff = Account(name="amy", role="staff", display="王干事", sectors=(), department="", disabled=False)
    today = datetime.now(CHINA).date()
    middle = readside.rows(Filters(), None, registry, today)[readside.count() // 2]
    found: list = []
    took = _timed(lambda: found.append(hints_for(state, staff, None, middle)), repeat)
    print(f"  duplicate hints: {len(found[-1])} suggested for {middle.record['receipt']}", file=sys.stderr)
    return took


def _export(staff: Staff, repeat: int) -> float:
    """The 明细 export of the whole list (every record, the office layout), median ms."""
    sizes: list[int] = []
    took = _timed(lambda: sizes.append(len(_ok(staff.get_bytes("/office/records.xlsx")))), repeat)
    print(f"  export: {sizes[-1] / 1e6:.1f} MB", file=sys.stderr)
    return took


def _reports(staff: Staff, csrf: str, label: str, today, repeat: int) -> dict[str, float]:
    """Each report cold (the first download after a status change, which any staff
    action makes) and cached (the same download again, as when several people open the
    pack before a meeting), medians of `repeat`."""
    # One record accepted before each cold build: pages 3 to 5 of 已收到 (25 a page) hold enough.
    ids = [found for page in (3, 4, 5) for found in re.findall(r'href="/office/records/([0-9a-f-]{36})"', _ok(
        staff.get(f"/office/records?status=received&page={page}")))]
    fresh = iter(ids)
    found: dict[str, float] = {}
    for kind, param in (("weekly", {"date": today.isoformat()}), ("monthly", {"month": today.strftime("%Y-%m")})):
        for fmt in ("html", "csv", "xlsx"):
            path = f"/office/reports/{kind}?" + urlencode({**param, "format": fmt})
            cold = []
            for _ in range(repeat):
                _ok(staff.post(f"/office/records/{next(fresh)}/action", {"csrf": csrf, "action": "accept"}), 303)
                cold.append(_timed(lambda p=path: _ok(staff.get_bytes(p)), 1))
            found[f"office_report_ms_{kind}_{fmt}_{label}"] = statistics.median(cold)
            found[f"office_report_cached_ms_{kind}_{fmt}_{label}"] = _timed(lambda p=path: _ok(staff.get_bytes(p)), repeat)
    results: dict[str, float] = {}
    for span in RESULT_SPANS:  # the 成效 page: every triaged matter read, cold and cached
        path = "/office/results?" + urlencode({"span": span})
        cold = []
        for _ in range(repeat):
            _ok(staff.post(f"/office/records/{next(fresh)}/action", {"csrf": csrf, "action": "accept"}), 303)
            cold.append(_timed(lambda p=path: _ok(staff.get_bytes(p)), 1))
        results[f"results_{span}"] = statistics.median(cold)
        results[f"results_{span}_cached"] = _timed(lambda p=path: _ok(staff.get_bytes(p)), repeat)
    print("  report medians (ms), cold / cached: " + ", ".join(
        f"{k.split('_ms_')[1]} {v:.0f}" for k, v in found.items() if "cached" not in k), file=sys.stderr)
    print("  成效 page medians (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in results.items()), file=sys.stderr)
    # The worst report, cold: the 成效 page counts as one (its own figures are printed
    # above; named metrics of their own wait for the next whole run's committed results).
    found[f"office_report_ms_{label}"] = max([v for k, v in found.items() if "cached" not in k]
                                             + [v for k, v in results.items() if not k.endswith("cached")])
    return found


def _department_queue(staff: Staff, repeat: int) -> float:
    """The slowest tab of the busiest department's queue (我的待办), as staff pick it: the
    same page and code a department account gets for its own."""
    from sync_server.office.department_queue import TABS

    registry = load_registry(SAMPLE_REGISTRY)
    counts = {}
    for department in registry.departments:
        page = _ok(staff.get(f"/office/queue?department={department.id}"))
        counts[department.id] = sum(int(n) for n in re.findall(r"<span data-count>(\d+)</span>", page))
    busiest = max(counts, key=counts.get)
    times = {tab: _timed(lambda t=tab: _ok(staff.get(f"/office/queue?department={busiest}&tab={t}")), repeat)
             for tab in TABS}
    print(f"  queue of {busiest} ({counts[busiest]} matters), ms: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()),
          file=sys.stderr)
    return max(times.values())


def measure(count: int, repeat: int = 7, baseline: bool = True, reports_only: bool = False,
            reports: bool = True, site_dir: Path = REPO / "build" / "site", label: str | None = None,
            report_repeat: int | None = None, rounds: int | None = None) -> dict[str, float]:
    label = label or (f"{count // 1000}k" if count < 1_000_000 else f"{count // 1_000_000}M")
    report_repeat = report_repeat or max(3, repeat // 2)
    # A p95 of 20 uploads is their second slowest, one scheduling hiccup; 60 give it a meaning.
    rounds = rounds or (60 if count <= 100_000 else 10)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        started = time.perf_counter()
        generate(data, count, accounts=("amy", "bob"))
        print(f"  generated {count} records in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
        if count <= 100_000:  # tracemalloc makes the load several times slower
            results[f"office_triage_bytes_per_entry_{label}"] = _triage_bytes_per_entry(data)
        if not reports_only:
            results[f"duplicate_hints_{label}"] = _duplicate_hints(data, repeat)
        if baseline and not reports_only:
            started = time.perf_counter()
            old = _baseline(data, 1 if count > 100_000 else 2)
            print(f"  baseline measured in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
            results[f"baseline_office_list_ms_{label}"] = old["list"]
            results[f"baseline_office_report_ms_{label}"] = old["report"]
        server = ServerProcess(data, site_dir, SAMPLE_REGISTRY, extra_args=UNTHROTTLED)
        started = time.perf_counter()
        server.start(timeout=3600)
        results[f"office_server_start_s_{label}"] = time.perf_counter() - started
        try:
            # The office index loads beside the running server: wait for health to say so
            # (one long request could time out at 1M records).
            while not _office_ready(server):
                if time.perf_counter() - started > READY_DEADLINE_S:
                    raise TimeoutError(f"the office index was not ready after {READY_DEADLINE_S} s")
                time.sleep(0.2)  # polling for the positive signal
            results[f"office_ready_s_{label}"] = time.perf_counter() - started
            staff = Staff(server.port)
            _ok(staff.get("/office/records"))
            lists = {} if reports_only else {name: _timed(lambda q=q: _ok(staff.get("/office/records?" + urlencode(q))), repeat)
                     for name, q in LISTS.items()}
            if lists:
                print("  list medians (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in lists.items()), file=sys.stderr)
                results[f"office_list_ms_{label}"] = max(lists.values())
                results[f"office_search_ms_{label}"] = lists["search"]
                results[f"department_queue_{label}"] = _department_queue(staff, repeat)
            if not reports_only:
                results[f"office_export_ms_{label}"] = _export(staff, 1 if count > 100_000 else 3)
            ids = re.findall(r'href="/office/records/([0-9a-f-]{36})"', _ok(staff.get("/office/records?status=received")))
            results[f"office_record_ms_{label}"] = _timed(lambda: _ok(staff.get(f"/office/records/{ids[0]}")), repeat)
            csrf = re.search(r'name="csrf" value="([^"]+)"', _ok(staff.get(f"/office/records/{ids[0]}"))).group(1)
            fresh = iter(ids)
            changes = min(repeat, len(ids))
            results[f"office_status_change_ms_{label}"] = _timed(
                lambda: _ok(staff.post(f"/office/records/{next(fresh)}/action", {"csrf": csrf, "action": "accept"}), 303),
                changes)
            # One 交办 of a record just accepted, to the lead of another sector, as the confirming page sends it.
            accepted = iter(ids[:changes])
            results[f"dispatch_one_{label}"] = _timed(
                lambda: _dispatched(staff, f"/office/records/{next(accepted)}/action", {
                    "csrf": csrf, "action": "assign", "department": "market", "co_departments": "urban",
                    "track": "immediate", "summary": "基准测试交办", "confirm": "yes"}), changes)
            today = datetime.now(CHINA).date()
            if reports:  # `--no-reports`: the 1M run (each report takes minutes there)
                results.update(_reports(staff, csrf, label, today, report_repeat))
            if reports_only:
                return results
            idle = _uploads_p95(server.port, rounds)
            stop = threading.Event()

            def browse(n: int) -> None:
                worker = Staff(server.port, "bob" if n else "amy")
                pages = ["/office/records?q=%E9%BB%91%E8%BD%A6", "/office/records?status=accepted", f"/office/records/{ids[-1]}",
                         *([f"/office/reports/weekly?date={today.isoformat()}&format=xlsx"] if reports else []),
                         "/office/records?page=2000"]
                while not stop.is_set():
                    for page in pages:
                        worker.get_bytes(page)
                worker.close()

            browsers = [threading.Thread(target=browse, args=(n,), daemon=True) for n in range(3)]
            for thread in browsers:
                thread.start()
            time.sleep(1)  # let the three staff get going before the tablet uploads
            busy = _uploads_p95(server.port, rounds)
            stop.set()
            for thread in browsers:
                thread.join()
            results[f"upload_p95_ms_idle_{label}"] = idle
            results[f"upload_p95_ms_3_staff_{label}"] = busy
            rss, peak = _rss_mb(server.proc.pid)
            results[f"office_memory_mb_{label}"] = peak
        finally:
            server.stop()
    return results


def run(site_dir: Path, smoke: bool = False) -> dict[str, float]:
    if smoke:
        return measure(1000, repeat=1, site_dir=site_dir, label="100k", report_repeat=1, rounds=3)
    return measure(100_000, site_dir=site_dir)


if __name__ == "__main__":
    from benchmarks.targets import TARGETS

    # `python -m benchmarks.office [N] [--reports | --no-reports]`: only the reports, or all but them.
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    size = int(args[0]) if args else 100_000
    print(f"load average before: {load_average()}", flush=True)
    found = measure(size, repeat=3 if size > 100_000 else 7, baseline=size <= 100_000,
                    reports_only="--reports" in sys.argv, reports="--no-reports" not in sys.argv)
    print(f"load average after: {load_average()}")
    for metric, value in found.items():
        unit, target, check = TARGETS.get(metric, ("", "", None))
        verdict = "" if check is None else ("ok" if check(found) else "ABOVE TARGET")
        print(f"{metric:<40} {value:10.1f} {unit:<3} {target:<24} {verdict}")
