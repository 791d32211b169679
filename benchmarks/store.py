"""Inbox store cost: one 100-record batch with 1k, 10k and 100k records already stored,
beside plain TinyDB (`insert_multiple` into a default JSON file holding 100k); a backup
of 100k records (30% triaged) and its restore; one triage status change at 30k entries.
The smoke stores 100, 200 and 300 records in their place, once each."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from tinydb import TinyDB

from benchmarks.common import median_seconds
from sync_server.store.embedded.backup import make_backup, restore
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry

REPEAT = 7
METRICS = ("store_batch_ms_1k", "store_batch_ms_10k", "store_batch_ms_100k", "baseline_tinydb_insert_ms_100k",
           "triage_change_ms_30k", "backup_restore_s_100k")
# Records already stored, by the label in the metric's name.
STORED = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
SMOKE_STORED = {"1k": 100, "10k": 200, "100k": 300}


def _record() -> dict:
    sid = str(uuid.uuid4())
    return {
        "id": sid, "station_id": "rulin-industrial-park", "created_at": "2026-11-25T10:00:00+08:00",
        "rating": "dissatisfied", "feeling": "园区门口晚上经常有人聚集，" * 8, "suggestion": "希望加强夜间巡逻。" * 8,
        "phone": None, "consent": False, "fingerprint": sid.replace("-", "") * 2, "receipt": sid[:11],
        "device_id": "tablet-1", "received_at": "2026-11-25T02:00:00.000+00:00", "flags": [],
    }


def _fill(inbox: Inbox, count: int) -> None:
    while len(inbox) < count:
        inbox.add([_record() for _ in range(min(1000, count - len(inbox)))])


def run(site_dir: Path | None = None, smoke: bool = False) -> dict[str, float]:
    repeat = 1 if smoke else REPEAT
    stored = SMOKE_STORED if smoke else STORED
    largest = stored["100k"]
    results = {}
    for label, count in stored.items():
        with tempfile.TemporaryDirectory() as folder, Inbox(Path(folder)) as inbox:
            _fill(inbox, count)
            batches = [[_record() for _ in range(100)] for _ in range(repeat)]
            results[f"store_batch_ms_{label}"] = 1000 * median_seconds(lambda b=batches: inbox.add(b.pop()), repeat)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        with Inbox(data) as inbox:
            _fill(inbox, largest)
            ids = [r["id"] for n, r in enumerate(inbox.records()) if n % 10 < 3]
        book = TriageBook(data)
        book.put_many({i: {**new_entry("2026-11-25T02:00:00+00:00"), "status": "accepted"} for i in ids})
        changes = iter(ids)
        results["triage_change_ms_30k"] = 1000 * median_seconds(
            lambda: book.put(next(changes), {**new_entry("2026-11-25T02:00:00+00:00"), "status": "declined"}), repeat)
        started = time.perf_counter()
        make_backup(data, Path(folder) / "backup")
        restore(Path(folder) / "backup", Path(folder) / "restored")
        results["backup_restore_s_100k"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        db = TinyDB(Path(folder) / "plain.json")
        db.insert_multiple(_record() for _ in range(largest))
        tries = 1 if smoke else 3
        batches = [[_record() for _ in range(100)] for _ in range(tries)]
        results["baseline_tinydb_insert_ms_100k"] = 1000 * median_seconds(lambda: db.insert_multiple(batches.pop()), tries)
        db.close()
    return results
