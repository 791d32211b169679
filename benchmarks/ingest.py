"""Ingest over loopback against the real server: batched vs one submission per request,
and p95 latency of a 100-record batch with 25 clients uploading at once. The smoke sends
a few hundred records, once each way, and 5 clients for the 25."""

from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY, percentile
from minqing.server_process import ServerProcess

# The benchmark measures the store, not the throttle.
UNTHROTTLED = ("--device-limit", "100000/100000", "--address-limit", "100000/100000")
METRICS = ("ingest_batched_per_s", "ingest_single_per_s", "ingest_p95_ms_25_clients")
# Records per timed run (batched, one per request), clients at once, rounds each, runs of each.
FULL = {"warm_up": 500, "batched": 3000, "single": 300, "clients": 25, "rounds": 4, "runs": 3}
SMOKE = {"warm_up": 100, "batched": 200, "single": 10, "clients": 5, "rounds": 1, "runs": 1}


def _item(n: int) -> dict:
    return {
        "id": str(uuid.uuid4()), "station_id": "rulin-industrial-park",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rating": "fair",
        "feeling": f"第{n}条：园区治安比以前好了。", "suggestion": "希望夜间多巡逻。", "phone": None, "consent": False,
    }


def _post(conn: http.client.HTTPConnection, items: list[dict], device: str) -> float:
    body = json.dumps({"device_id": device, "submissions": items}, ensure_ascii=False).encode()
    started = time.perf_counter()
    conn.request("POST", "/api/submissions/batch", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = json.loads(response.read())
    took = time.perf_counter() - started
    assert response.status == 200 and all(r["status"] == "accepted" for r in payload["results"]), payload
    return took


def _rate(port: int, total: int, per_request: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    items = [_item(n) for n in range(total)]
    started = time.perf_counter()
    for start in range(0, total, per_request):
        _post(conn, items[start : start + per_request], "bench")
    conn.close()
    return total / (time.perf_counter() - started)


def _p95_concurrent(port: int, clients: int, rounds: int) -> float:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(rounds):
            barrier.wait()
            took = _post(conn, [_item(k) for k in range(100)], f"tablet-{n}")
            with lock:
                latencies.append(took)
        conn.close()

    barrier = threading.Barrier(clients)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return percentile(latencies, 0.95)


def run(site_dir: Path, smoke: bool = False) -> dict[str, float]:
    size = SMOKE if smoke else FULL
    runs = size["runs"]
    with tempfile.TemporaryDirectory() as folder:
        with ServerProcess(Path(folder) / "data", site_dir, SAMPLE_REGISTRY, extra_args=UNTHROTTLED) as server:
            _rate(server.port, size["warm_up"], 100)
            batched = [_rate(server.port, size["batched"], 100) for _ in range(runs)]
            single = [_rate(server.port, size["single"], 1) for _ in range(runs)]
            p95 = [_p95_concurrent(server.port, size["clients"], size["rounds"]) for _ in range(runs)]
    return {
        "ingest_batched_per_s": statistics.median(batched),
        "ingest_single_per_s": statistics.median(single),
        "ingest_p95_ms_25_clients": 1000 * statistics.median(p95),
    }
