"""Ingest over loopback against the real server: batched vs one submission per request,
and p95 latency of a 100-record batch with 25 clients uploading at once."""

from __future__ import annotations

import http.client
import json
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


def _p95_concurrent(port: int, clients: int = 25, rounds: int = 4) -> float:
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


def run(site_dir: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        with ServerProcess(Path(folder) / "data", site_dir, SAMPLE_REGISTRY, extra_args=UNTHROTTLED) as server:
            _rate(server.port, 500, 100)  # warm up
            batched = [_rate(server.port, 3000, 100) for _ in range(3)]
            single = [_rate(server.port, 300, 1) for _ in range(3)]
            p95 = [_p95_concurrent(server.port) for _ in range(3)]
    return {
        "ingest_batched_per_s": sorted(batched)[1],
        "ingest_single_per_s": sorted(single)[1],
        "ingest_p95_ms_25_clients": 1000 * sorted(p95)[1],
    }
