"""A closed segment's summary spares the start a parse of it, and is trusted only while
it describes the segment as it is: missing, cut short, damaged or made from an older
version of the segment, the segment itself is read, and no record is lost or doubled."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest

from sync_server.store.embedded import inbox as inbox_module
from sync_server.store.embedded import segmentsummary, tinystore
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.fingerprint import Fingerprints
from tests.sync_server.conftest import health_here


def _record(n: int, **fields) -> dict:
    sid = str(uuid.UUID(int=n + 1, version=4))
    return {"id": sid, "station_id": "s", "feeling": f"第{n}条", "suggestion": "", "rating": None,
            "phone": None, "consent": False, "fingerprint": f"fp{n}", "phone_fingerprint": None,
            "receipt": f"R{n:05d}", "received_at": "2026-11-25T00:00:00+00:00", "flags": [], **fields}


def _filled(data, count=10, size=3) -> list[dict]:
    records = [_record(n) for n in range(count)]
    with Inbox(data, segment_size=size) as inbox:
        for n in range(0, count, 2):
            inbox.add(records[n : n + 2])
    return records


def _summary(data, number=1):
    return data / segmentsummary.FOLDER / f"segment-{number:06d}.json"


def _agrees(inbox: Inbox) -> bool:
    records = list(inbox.records())
    return (len(inbox) == len(records) == len({r["id"] for r in records})
            and all(inbox.receipt(r["id"]) == r["receipt"] and inbox.receipt_owner(r["receipt"]) == r["id"]
                    and inbox.fingerprints(r["id"]) == Fingerprints.stored(r) for r in records))


def test_a_closed_segment_gets_a_summary_and_a_start_reads_it_instead_of_the_segment(tmp_path, monkeypatch):
    records = _filled(tmp_path)
    assert sorted(p.name for p in (tmp_path / segmentsummary.FOLDER).iterdir()) == [
        "segment-000001.json", "segment-000002.json"]  # closed ones; the open third has none
    parsed = []
    real = inbox_module.read_segment
    monkeypatch.setattr(inbox_module, "read_segment", lambda folder, number: parsed.append(number) or real(folder, number))
    with Inbox(tmp_path, writer=False) as inbox:
        assert parsed == [3] and len(inbox) == len(records) and _agrees(inbox)


@pytest.mark.parametrize("damage", ["missing", "truncated", "not json", "wrong count", "wrong type", "other segment"])
def test_a_missing_or_damaged_summary_is_rebuilt_from_its_segment(tmp_path, damage):
    records = _filled(tmp_path)
    summary = _summary(tmp_path)
    if damage == "missing":
        summary.unlink()
    elif damage == "truncated":
        summary.write_bytes(summary.read_bytes()[: summary.stat().st_size // 2])
    elif damage == "not json":
        summary.write_bytes(b"\x00garbage")
    else:
        found = tinystore.read_json(summary)
        if damage == "wrong count":
            found["ids"] = found["ids"][:-1]
        elif damage == "wrong type":
            found["removed"][0] = "no"
        else:
            found["segment"] = "segment-000002.json"
        tinystore.write_json(summary, found)
    with Inbox(tmp_path) as inbox:
        assert len(inbox) == len(records) and _agrees(inbox)
    assert segmentsummary.read(tmp_path, tmp_path / "inbox" / "segment-000001.json") is not None  # rewritten


def test_a_summary_of_an_older_version_of_its_segment_is_not_trusted(tmp_path):
    # Retention rewrote the segment after its summary was made (a kill between the two
    # writes, or an old summary put back): the record's phone fingerprint changed.
    records = [_record(n, phone="13800001111", consent=True, phone_fingerprint=f"pf{n}") for n in range(6)]
    with Inbox(tmp_path, segment_size=3) as inbox:
        inbox.add(records[:3])
        inbox.add(records[3:])
    old = _summary(tmp_path).read_bytes()
    with Inbox(tmp_path) as inbox:
        inbox.redact_phones({records[0]["id"]})
    _summary(tmp_path).write_bytes(old)
    with Inbox(tmp_path, writer=False) as inbox:
        assert inbox.fingerprints(records[0]["id"]).phone is None and inbox.fingerprints(records[0]["id"]).phone_removed
        assert _agrees(inbox)


def test_a_segment_replaced_by_another_with_the_same_size_and_time_is_read_again(tmp_path):
    # A restore, or a copy, puts back a segment with other records: a new inode.
    _filled(tmp_path)
    segment = tmp_path / "inbox" / "segment-000001.json"
    stat = segment.stat()
    # Other ids and fingerprints, the same lengths: the same size to the byte.
    other = [_record(n, id=str(uuid.UUID(int=5000 + n, version=4)), fingerprint=f"fq{n}") for n in range(4)]
    copy = tmp_path / "other"
    with Inbox(copy, segment_size=3) as inbox:
        inbox.add(other[:2])
        inbox.add(other[2:])
    replacement = tmp_path / "replacement.json"
    shutil.copyfile(copy / "inbox" / "segment-000001.json", replacement)
    assert replacement.stat().st_size == stat.st_size
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, segment)
    with Inbox(tmp_path, writer=False) as inbox:
        assert all(r["id"] in inbox for r in other) and _agrees(inbox)


def test_the_summary_of_a_segment_rewritten_by_retention_is_rewritten_too(tmp_path):
    records = [_record(n, phone="13800001111", consent=True, phone_fingerprint=f"pf{n}") for n in range(6)]
    with Inbox(tmp_path, segment_size=3) as inbox:
        inbox.add(records[:3])
        inbox.add(records[3:])
        inbox.redact_phones({records[1]["id"]})
    found = segmentsummary.read(tmp_path, tmp_path / "inbox" / "segment-000001.json")
    place = found["ids"].index(records[1]["id"])  # one minute: stored in no batch's order
    assert found["phone"][place] is None and found["removed"][place] is True


def test_a_summary_that_cannot_be_written_costs_a_warning_not_the_upload(tmp_path, monkeypatch):
    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segmentsummary.tinystore, "write_json", refuse)
    records = _filled(tmp_path, count=6)
    monkeypatch.undo()
    with Inbox(tmp_path) as inbox:
        assert len(inbox) == 6 and _agrees(inbox)
    assert {r["id"] for r in records} == {r["id"] for r in Inbox(tmp_path, writer=False).records()}


def test_a_backup_leaves_the_summaries_out(tmp_path):
    _filled(tmp_path / "data")
    with Inbox(tmp_path / "data", writer=False) as inbox:
        inbox.backup(tmp_path / "backup")
    assert not (tmp_path / "backup" / segmentsummary.FOLDER).exists()


def test_the_server_takes_uploads_before_the_office_index_is_ready_and_the_index_has_each_record_once(
        settings, registry_file, monkeypatch):
    import threading

    from starlette.testclient import TestClient

    from sync_server.app import create_app
    from sync_server.office.readside_index import MemoryReadSide
    from tests.sync_server.conftest import make_item, post_batch, store_items

    stored = [make_item(feeling=f"旧的第{n}条") for n in range(1200)]  # a closed segment and an open one
    store_items(settings.data_dir, registry_file, stored)
    release, loading = threading.Event(), threading.Event()
    real = MemoryReadSide.load

    def held_load(self, records, triage):
        loading.set()
        assert release.wait(60)
        real(self, records, triage)

    monkeypatch.setattr(MemoryReadSide, "load", held_load)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert loading.wait(60)
        health = health_here(client)
        assert health["records"] == 1200 and health["office_ready"] is False
        late = [make_item(feeling="索引未就绪时上传")]
        assert post_batch(client, late).json()["ok"]
        release.set()
        readside = client.app.state.readside
        readside.wait_ready()
        assert health_here(client)["office_ready"] is True
        assert readside.count() == 1201
        assert {s.id for s in readside._items} == {i["id"] for i in stored + late}


def test_a_segment_damaged_in_place_under_a_matching_summary_is_named_when_read(tmp_path):
    # A disk fault keeps the size and the time: the summary still matches, so the start
    # trusts it, and the first full read (the office index) names the damage.
    _filled(tmp_path)
    segment = tmp_path / "inbox" / "segment-000001.json"
    stat = segment.stat()
    with open(segment, "r+b") as handle:
        handle.write(b"\x00" * 8)
    os.utime(segment, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with Inbox(tmp_path, writer=False) as inbox:
        assert inbox.problems == []
        records = list(inbox.records())
        assert len(records) == 6 and "segment-000001.json could not be read" in inbox.problems[0]


def test_retention_reads_only_the_segments_that_may_still_hold_a_phone(tmp_path, monkeypatch):
    plain = [_record(n) for n in range(6)]
    phoned = _record(6, phone="13800001111", consent=True, phone_fingerprint="pf6")
    legacy = {k: v for k, v in _record(7).items() if k != "phone_fingerprint"}  # older shape: may hold one
    with Inbox(tmp_path, segment_size=2) as inbox:
        for n in range(0, 6, 2):
            inbox.add(plain[n : n + 2])
        inbox.add([phoned, legacy])
    parsed = []
    real = inbox_module.read_segment
    monkeypatch.setattr(inbox_module, "read_segment", lambda folder, number: parsed.append(number) or real(folder, number))
    with Inbox(tmp_path, writer=False) as inbox:
        parsed.clear()
        assert {r["id"] for r in inbox.records_with_phones()} == {phoned["id"], legacy["id"]}
    assert parsed == []  # the newest segment is in memory; the three plain ones are never read
