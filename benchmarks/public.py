"""你说我办: a post's public list (GET /api/public/matters?station=ID) answered by the
real server at 100,000 records, median over a kept-alive connection. The generated data
(`office_data`: 30% triaged) is given publications here, through the real 公开 rule
(`triage.apply`), when it has none: every closed matter of the sample data, as an office
that publishes all it closes would. The smoke measures 1,000 records once."""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import REPO, SAMPLE_REGISTRY, median_seconds
from benchmarks.office_data import generate
from minqing.registry import load_registry
from minqing.server_process import ServerProcess
from sync_server.store import open_store
from sync_server.triage import TriageError, apply

METRICS = ("public_list_ms_100k",)
REPEAT = 21
READY_DEADLINE_S = 600


def _published(data: Path) -> str:
    """Publish the closed matters when none is public; answer the post with most of them."""
    registry = load_registry(SAMPLE_REGISTRY)
    now = datetime.now(timezone.utc)
    with open_store(data) as store:
        entries = store.triage.all()
        if not any(entry.get("publication") for entry in entries.values()):
            stations = {sid: r["station_id"] for sid, r in
                        ((r["id"], r) for r in store.submissions.records()) if sid in entries}
            changes = {}
            for sid, entry in entries.items():
                if entry.get("status") not in ("closed", "followed_up"):
                    continue
                station = registry.station(stations.get(sid, ""))
                try:
                    changes[sid] = apply(entry, "publish", {
                        "public_title": "夜间聚集问题已整治", "public_done": "增设巡逻点，加装照明。",
                        "station_id": station.id if station else "", "sector": station.sector if station else ""},
                        "amy", now, registry=registry)
                except TriageError:
                    continue
            store.triage.put_many(changes)
            entries = store.triage.all()
    posts = Counter((entry.get("publication") or {}).get("station_id") for entry in entries.values())
    posts.pop(None, None)
    posts.pop("", None)
    if not posts:
        raise RuntimeError("no matter could be published: the generated data has no closed matter")
    station, count = posts.most_common(1)[0]
    print(f"  {sum(posts.values())} matters public, {count} at {station}", file=sys.stderr, flush=True)
    return station


def measure(count: int, repeat: int, site_dir: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        generate(data, count, accounts=())
        station = _published(data)
        server = ServerProcess(data, site_dir, SAMPLE_REGISTRY).start(timeout=600)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            path = f"/api/public/matters?station={station}"

            def get() -> dict:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                return json.loads(body) if response.status == 200 else {}

            started = time.monotonic()
            while not get().get("items"):  # the list answers once the server has read the log
                if time.monotonic() - started > READY_DEADLINE_S:
                    raise TimeoutError(f"the public list was not ready after {READY_DEADLINE_S} s")
                time.sleep(0.1)
            return 1000 * median_seconds(get, repeat)
        finally:
            server.stop()


def run(site_dir: Path = REPO / "build" / "site", smoke: bool = False) -> dict[str, float]:
    figure = measure(1000, 1, site_dir) if smoke else measure(100_000, REPEAT, site_dir)
    print(f"  a post's public list: {figure:.1f} ms", file=sys.stderr)
    return {"public_list_ms_100k": figure}


if __name__ == "__main__":  # `python -m benchmarks.public [N]`: one other size, printed only
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{size} records: {measure(size, REPEAT, REPO / 'build' / 'site'):.1f} ms")
