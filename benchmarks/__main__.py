"""`make bench`: every benchmark, medians of several runs, one table and one JSON file.

Each figure is measured in this run on this machine, beside its baseline; nothing is
written by hand. Results: build/bench/results.json (metric name -> number).
"""

from __future__ import annotations

import json
import platform
import sys

from . import build, ingest, page, store, sync
from .common import REPO, RESULTS

# metric: (unit, target as text, check or None)
TARGETS = {
    "page_first_visit_kb": ("KB", "<= 70", lambda r: r["page_first_visit_kb"] <= 70),
    "page_fcp_ms": ("ms", "< 1500", lambda r: r["page_fcp_ms"] < 1500),
    "page_form_ready_ms": ("ms", "< 2000", lambda r: r["page_form_ready_ms"] < 2000),
    "page_repeat_offline_ms": ("ms", "< 300", lambda r: r["page_repeat_offline_ms"] < 300),
    "baseline_material_fcp_ms": ("ms", "baseline", None),
    "build_25_s": ("s", "< 3", lambda r: r["build_25_s"] < 3),
    "build_1000_s": ("s", "< 30", lambda r: r["build_1000_s"] < 30),
    "rebuild_one_s": ("s", "<= build_25_s / 2", lambda r: r["rebuild_one_s"] <= r["build_25_s"] / 2),
    "ingest_batched_per_s": ("/s", ">= 20x single", lambda r: r["ingest_batched_per_s"] >= 20 * r["ingest_single_per_s"]),
    "ingest_single_per_s": ("/s", "baseline", None),
    "ingest_p95_ms_25_clients": ("ms", "< 500", lambda r: r["ingest_p95_ms_25_clients"] < 500),
    "store_batch_ms_1k": ("ms", "", None),
    "store_batch_ms_10k": ("ms", "", None),
    "store_batch_ms_100k": ("ms", "<= 2x 1k", lambda r: r["store_batch_ms_100k"] <= 2 * r["store_batch_ms_1k"]),
    "baseline_tinydb_insert_ms_100k": ("ms", "baseline", None),
    "sync_1000_queued_s": ("s", "< 10", lambda r: r["sync_1000_queued_s"] < 10),
}


def main() -> int:
    site = REPO / "build" / "site"
    results: dict[str, float] = {}
    for name, step in (("build", build.run), ("store", store.run)):
        print(f"running {name} benchmarks...", file=sys.stderr, flush=True)
        results.update(step())
    for name, step in (("ingest", ingest.run), ("page", page.run), ("sync", sync.run)):
        print(f"running {name} benchmarks...", file=sys.stderr, flush=True)
        results.update(step(site))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=1) + "\n")
    print(f"\nmachine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}")
    print(f"{'metric':<32} {'value':>12}  {'target':<20} ok")
    for metric, (unit, target, check) in TARGETS.items():
        if metric not in results:
            print(f"{metric:<32} {'(not measured)':>12}  {target:<20} -")
            continue
        verdict = "-" if check is None else ("yes" if check(results) else "NO")
        print(f"{metric:<32} {results[metric]:>10.1f} {unit:<3} {target:<20} {verdict}")
    print(f"\nwritten: {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
