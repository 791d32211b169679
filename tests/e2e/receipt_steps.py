"""What the browser tests of 群众说了算 need from the office side, done through the store
while the server is stopped (the triage log is the server's alone while it runs): a
citizen's record stored through the real API, the matter closed or asked a question, and
the citizen's steps the server kept, read back."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timezone

from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.e2e.conftest import STATION


def submitted(world, feeling: str = "园区路灯坏了三个月") -> str:
    """Store one record through the real batch API; its receipt code."""
    item = {"id": str(uuid.uuid4()), "station_id": STATION, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rating": "fair", "feeling": feeling, "suggestion": "", "phone": None, "consent": False}
    request = urllib.request.Request(world.server.url + "/api/submissions/batch", method="POST",
                                     data=json.dumps({"device_id": "d-test", "submissions": [item]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["results"][0]["receipt"]


def _owner(world, code: str) -> str:
    with Inbox(world.server.data_dir, writer=False) as inbox:
        return inbox.receipt_owner(code)


def office_sets(world, code: str, **fields) -> None:
    """The matter of `code` as the office left it; the server restarts on the same port."""
    world.server.stop()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    book = TriageBook(world.server.data_dir)
    try:
        record_id = _owner(world, code)
        book.put_many({record_id: {**(book.entry(record_id) or new_entry(now)), "updated_at": now, **fields}})
    finally:
        book.close()
    world.server.start()


def closed(world, code: str) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    office_sets(world, code, status="closed", outcome="resolved", public_reply="已修好路灯。", closed_at=now)


def asked(world, code: str, question: str) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    office_sets(world, code, status="in_progress", questions=[{"id": "q1", "asked_at": now, "text": question, "answer": None}])


def kept_entry(world, code: str) -> dict:
    """The matter's triage entry as the server stored it (the server stops for the read)."""
    world.server.stop()
    book = TriageBook(world.server.data_dir)
    try:
        return dict(book.entry(_owner(world, code)))
    finally:
        book.close()


def steps(entry: dict, action: str) -> list[dict]:
    return [s for s in entry.get("history") or () if s.get("action") == action]


def idb(page, store: str) -> list:
    """Everything in one IndexedDB store of the page's outbox, read through outbox.js."""
    getter = {"receipts": "receipts", "replies": "replies"}[store]
    return page.evaluate(f"import('/js/outbox.js').then((m) => m.{getter}())")
