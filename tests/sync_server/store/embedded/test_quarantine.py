"""Quarantined segments: every record that parses is read, wherever the damage is; the
file stays byte for byte until a rule changes it; setting a segment aside leaves no
summary of its phones behind."""

from __future__ import annotations

import hashlib
import json
import uuid

from sync_server.store.embedded import quarantine
from sync_server.store.embedded.inbox import Inbox


def _record(n: int, phone: str | None = None) -> dict:
    sid = str(uuid.uuid4())
    return {"id": sid, "fingerprint": f"f{n}", "receipt": f"R{sid[:8]}", "feeling": f"第{n}条", "phone": phone,
            "phone_fingerprint": f"p{n}" if phone else None, "received_at": "2026-12-01T08:15:00+00:00", "flags": []}


def test_every_record_that_parses_is_read_also_after_the_damage(tmp_path):
    records = [_record(n) for n in range(6)]
    path = tmp_path / "segment-000001.json.abc"
    raw = json.dumps({"submissions": {str(n): r for n, r in enumerate(records, 1)}}, ensure_ascii=False).encode()
    broken = raw.replace(records[1]["id"].encode(), b"\x00" * 36, 1).replace(b'"feeling": "\xe7\xac\xac3', b'"feeling": "\xff\xfe3')
    path.write_bytes(broken)
    found = quarantine.read(path)
    # The old salvage stopped at the first damage (one record); the records after it are data too.
    assert [r["id"] for r in found.records] == [records[n]["id"] for n in (0, 2, 4, 5)]
    assert found.unreadable is not None and b"\xff\xfe3" in found.unreadable
    assert found.damage["bytes"] == len(broken) and found.damage["sha256"] == hashlib.sha256(broken).hexdigest()
    assert all(broken[offset:offset + size] in found.unreadable for offset, size in found.damage["ranges"])


def test_a_damaged_closed_segment_set_aside_leaves_no_summary_of_its_phones(tmp_path):
    with Inbox(tmp_path, segment_size=2) as inbox:
        inbox.add([_record(0, "13900000001"), _record(1, "13900000002")])
        inbox.add([_record(2)])  # closes the first segment: its summary holds phone digests
    summary = tmp_path / "inbox-summaries" / "segment-000001.json"
    assert b"p0" in summary.read_bytes()
    segment = tmp_path / "inbox" / "segment-000001.json"
    damaged = segment.read_bytes()[:-3]
    segment.write_bytes(damaged)
    with Inbox(tmp_path) as inbox:
        assert len(inbox) == 1 and inbox.damaged
    assert not summary.exists()
    [kept] = (tmp_path / "quarantine" / "inbox").glob("segment-000001.json.*")
    assert kept.read_bytes() == damaged  # the evidence, untouched until a rule needs to change it
    assert len(quarantine.read(kept).records) == 1  # the last lost its closing brace
