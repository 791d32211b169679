"""The inbox store: atomic durable writes, bounded segments, one writer, backups."""

from __future__ import annotations

import json
import uuid

import pytest

from sync_server.store.embedded.inbox import Inbox, InboxLocked
from sync_server.store.embedded.tinystore import AtomicJSONStorage


def _record(n: int = 0) -> dict:
    sid = str(uuid.uuid4())
    return {"id": sid, "fingerprint": f"f{n}", "receipt": f"R{sid[:8]}", "feeling": f"第{n}条"}


def test_records_survive_reopening(tmp_path):
    records = [_record(n) for n in range(5)]
    with Inbox(tmp_path) as inbox:
        inbox.add(records)
    with Inbox(tmp_path) as inbox:
        assert len(inbox) == 5
        assert [r["id"] for r in inbox.records()] == [r["id"] for r in records]
        assert inbox.fingerprint(records[2]["id"]) == "f2"
        assert inbox.receipt_owner(records[3]["receipt"]) == records[3]["id"]


def test_records_read_back_share_the_index_strings_so_a_reader_keeps_no_second_copy(tmp_path):
    # The office index keeps every id and receipt: read back, they must be the very
    # strings the inbox's own index holds (100,000 records: 14 MB otherwise).
    with Inbox(tmp_path, segment_size=4) as inbox:
        for _ in range(3):
            inbox.add([_record(n) for n in range(3)])
    with Inbox(tmp_path) as inbox:  # reopened: closed segments from summaries, the open one parsed
        read = list(inbox.records())
        assert len(read) == 9
        for record in read:
            assert inbox.receipt_owner(record["receipt"]) is record["id"]
            assert inbox.receipt(record["id"]) is record["receipt"]


def test_one_batch_is_one_write_to_one_segment(tmp_path, monkeypatch):
    writes = []
    original = AtomicJSONStorage.write
    monkeypatch.setattr(AtomicJSONStorage, "write", lambda self, data: (writes.append(self.path), original(self, data)))
    with Inbox(tmp_path) as inbox:
        inbox.add([_record(n) for n in range(100)])
    assert len(writes) == 1


def test_segments_roll_over_so_a_write_only_touches_the_newest(tmp_path):
    with Inbox(tmp_path, segment_size=10) as inbox:
        for _ in range(5):
            inbox.add([_record(n) for n in range(4)])
        assert len(inbox) == 20
    segments = sorted((tmp_path / "inbox").glob("segment-*.json"))
    sizes = [len(json.loads(p.read_text())["submissions"]) for p in segments]
    assert sizes == [12, 8]  # a batch never splits: the first segment ends past the limit


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path):
    with Inbox(tmp_path):
        with pytest.raises(InboxLocked, match="already writing"):
            Inbox(tmp_path)
        with Inbox(tmp_path, writer=False) as reader:  # readers take no lock
            assert len(reader) == 0
    with Inbox(tmp_path):  # released on close
        pass


def test_reader_cannot_write(tmp_path):
    with Inbox(tmp_path, writer=False) as reader, pytest.raises(InboxLocked):
        reader.add([_record()])


def test_write_goes_through_a_temporary_file_and_a_rename(tmp_path, monkeypatch):
    import os

    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((str(src), str(dst))), real_replace(src, dst)))
    with Inbox(tmp_path) as inbox:
        inbox.add([_record()])
    [(src, dst)] = renames
    assert src.endswith(".tmp") and dst.endswith("segment-000001.json")


def test_crash_before_the_rename_leaves_the_old_segment_whole(tmp_path, monkeypatch):
    import os

    with Inbox(tmp_path) as inbox:
        inbox.add([_record(1)])

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with Inbox(tmp_path) as inbox, pytest.raises(OSError):
        inbox.add([_record(2)])
    monkeypatch.undo()
    with Inbox(tmp_path) as inbox:
        assert [r["feeling"] for r in inbox.records()] == ["第1条"]
    assert list((tmp_path / "inbox").glob(".*.tmp")) == []


def test_leftover_temporary_files_are_cleaned_at_open(tmp_path):
    (tmp_path / "inbox").mkdir(parents=True)
    (tmp_path / "inbox" / ".segment-000001.json.abc.tmp").write_text("{half")
    with Inbox(tmp_path) as inbox:
        assert len(inbox) == 0
    assert list((tmp_path / "inbox").glob(".*.tmp")) == []


def test_backup_is_a_readable_copy_while_the_writer_holds_the_lock(tmp_path):
    with Inbox(tmp_path / "data", segment_size=3) as inbox:
        inbox.add([_record(n) for n in range(7)])
        with Inbox(tmp_path / "data", writer=False) as reader:
            assert reader.backup(tmp_path / "copy") == 7
    with Inbox(tmp_path / "copy", writer=False) as copy:
        assert len(copy) == 7


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "x").write_text("x")
    with Inbox(tmp_path / "data", writer=False) as reader, pytest.raises(FileExistsError):
        reader.backup(tmp_path / "copy")


def test_on_change_hears_stored_and_redacted_records(tmp_path):
    heard = []
    with Inbox(tmp_path) as inbox:
        inbox.on_change = heard.append
        records = [{**_record(n), "phone": "13800001111"} for n in range(3)]
        inbox.add(records)
        assert inbox.redact_phones({records[1]["id"]}) == 1
    assert [len(h) for h in heard] == [3, 1] and heard[1][0]["phone"] is None


def test_open_feeds_every_record_once_in_the_order_stored(tmp_path):
    records = [_record(n) for n in range(7)]
    with Inbox(tmp_path, segment_size=3) as inbox:
        inbox.add(records[:4])
        inbox.add(records[4:])
    fed: list[list[dict]] = []
    with Inbox(tmp_path, writer=False, on_open=fed.append) as inbox:
        assert [r["id"] for batch in fed for r in batch] == [r["id"] for r in inbox.records()]
    assert len(fed) == 2  # one call per segment (a batch is never split: 4 + 3)


def test_a_record_read_from_a_cached_segment_follows_a_phone_removal(tmp_path):
    records = [{**_record(n), "phone": "13800001111", "consent": True} for n in range(4)]
    with Inbox(tmp_path, segment_size=2) as inbox:
        inbox.add(records[:2])
        inbox.add(records[2:])
        first = records[0]["id"]
        assert inbox.get(first)["phone"] == "13800001111"  # the closed segment is now cached
        inbox.redact_phones({first})
        assert inbox.get(first)["phone"] is None
        inbox.get(first)["feeling"] = "changed by a caller"
        assert inbox.get(first)["feeling"] == "第0条"  # a copy: the cache is not the caller's


def test_a_failed_folder_fsync_after_the_rename_leaves_memory_agreeing_with_the_disk(tmp_path, monkeypatch):
    # The rename happened, so the batch is in the segment; only the folder's fsync
    # failed. The inbox must know the records it now holds on disk: else the next batch
    # rewrites the segment without them (a reader or backup saw them vanish), and the
    # resend is judged new instead of a duplicate with the receipt it already has.
    from sync_server.store.embedded import tinystore

    with Inbox(tmp_path) as inbox:
        inbox.add([_record(1)])
        calls = []
        real_fsync_dir = tinystore.fsync_dir

        def failing_once(path):
            calls.append(path)
            if len(calls) == 1:
                raise OSError("EIO")
            real_fsync_dir(path)

        monkeypatch.setattr(tinystore, "fsync_dir", failing_once)
        batch = _record(2)
        with pytest.raises(OSError):
            inbox.add([batch])
        assert batch["id"] in inbox  # on disk, so known: a resend is a duplicate
        inbox.add([_record(3)])
        in_memory = [r["id"] for r in inbox.records()]
    with Inbox(tmp_path, writer=False) as reader:
        on_disk = [r["id"] for r in reader.records()]
    assert on_disk == in_memory and on_disk.count(batch["id"]) == 1
