"""A generated office: N records in inbox segments written straight through the store's
own functions (no HTTP), 30% of them triaged, and the accounts asked for (three by default)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY
from minqing.registry import load_registry
from sync_server.intake.receipt import receipt_for
from sync_server.store.embedded import segmentsummary, tinystore
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import SEGMENT_SIZE, TABLE
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry

PASSWORD = "bench-password-1"
# name: (role, display name, sectors). Each costs a scrypt of about a second under load:
# a caller names only the accounts it logs in with.
ACCOUNTS = {"amy": ("staff", "王干事", ()), "bob": ("staff", "李干事", ()),
            "police": ("department", "区公安分局", ("public-order",))}
FEELINGS = ["园区门口晚上经常有人聚集，", "车站附近黑车拉客的情况比以前少了，", "校门口放学时段秩序明显好转，",
            "村里赌博的现象还有，", "菜市场周边占道经营严重，"]
SUGGESTIONS = ["希望加强夜间巡逻。", "建议多安排一名交警。", "希望长期坚持下去。", ""]


def _write_segment(path: Path, records: list[dict]) -> None:
    # The store's own storage class, one write per segment: TinyDB's insert path would
    # take minutes for a million records.
    tinystore.AtomicJSONStorage(path).write({TABLE: {str(n): r for n, r in enumerate(records, 1)}})


def generate(data_dir: Path, count: int, triaged: float = 0.3, seed: int = 11,
             accounts: tuple[str, ...] = tuple(ACCOUNTS)) -> None:
    """The inbox as a server that stored these records would leave it, segment summaries
    included (a folder without them, as after an upgrade, rebuilds them at its first start)."""
    rng = random.Random(seed)
    stations = [s.id for s in load_registry(SAMPLE_REGISTRY).stations]
    now = datetime.now(timezone.utc)
    # Spread over a year and a bit, oldest first, as the server would have stored them.
    step = timedelta(days=400) / count
    start = now - timedelta(days=400)
    folder = data_dir / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    triage: dict[str, dict] = {}
    segment: list[dict] = []
    number = 1
    for n in range(count):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        received = (start + n * step).isoformat(timespec="milliseconds")
        feeling = rng.choice(FEELINGS) * rng.randint(2, 6) + f"（第{n}条）"
        segment.append({
            "id": sid, "station_id": rng.choice(stations), "created_at": received, "rating":
            rng.choice(["satisfied", "fair", "dissatisfied", None]), "feeling": feeling,
            "suggestion": rng.choice(SUGGESTIONS), "phone": None, "consent": False,
            "fingerprint": sid.replace("-", "") * 2, "receipt": receipt_for(sid), "device_id": "bench",
            "received_at": received, "flags": [],
        })
        if rng.random() < triaged:
            status = rng.choice(["accepted", "assigned", "in_progress", "closed", "followed_up", "declined"])
            entry = {**new_entry(received), "status": status, "updated_at": received}
            if status in ("assigned", "in_progress", "closed", "followed_up"):
                deadline = (start + n * step + timedelta(days=rng.randint(5, 60))).date().isoformat()
                entry.update(lead="区公安分局", deadline=deadline, track="immediate", weekly=rng.random() < 0.05)
            if status in ("closed", "followed_up"):
                entry.update(closed_at=received, outcome="resolved")
            entry["history"] = [{"at": received, "by": "amy", "action": "accept", "from": "received",
                                 "to": "accepted", "note": ""}]
            triage[sid] = entry
        if len(segment) == SEGMENT_SIZE:
            path = folder / f"segment-{number:06d}.json"
            _write_segment(path, segment)
            # As the server does when a segment closes (the newest stays open, unsummarised).
            segmentsummary.write(data_dir, path, segment)
            segment, number = [], number + 1
    if segment:
        _write_segment(folder / f"segment-{number:06d}.json", segment)
    TriageBook(data_dir).put_many(triage)
    book = Accounts(data_dir)
    for name in accounts:
        role, display, sectors = ACCOUNTS[name]
        book.add(name, PASSWORD, role, display, sectors=list(sectors))
