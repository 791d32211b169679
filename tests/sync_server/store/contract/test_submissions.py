"""The inbox's promises (`interfaces.Submissions`), held against every engine."""

from __future__ import annotations

import pytest

from sync_server.store import StoreLocked, Submissions
from tests.sync_server.store.contract.conftest import read_while_writing, stored_record


def test_an_opened_inbox_is_the_seams_submissions(place):
    with place.open() as store:
        assert isinstance(store.submissions, Submissions)


def test_a_batch_reads_back_whole_by_id_and_by_receipt(place):
    batch = [stored_record(), stored_record(phone="13800138000", consent=True, phone_fingerprint="p")]
    with place.open() as store:
        store.submissions.add(batch)
        inbox = store.submissions
        assert len(inbox) == 2 and batch[0]["id"] in inbox
        assert inbox.get(batch[1]["id"]) == batch[1]
        assert inbox.get_many([r["id"] for r in batch] + ["unknown"]) == {r["id"]: r for r in batch}
        assert inbox.receipt(batch[0]["id"]) == batch[0]["receipt"]
        assert inbox.receipt_owner(batch[1]["receipt"]) == batch[1]["id"]
        assert inbox.fingerprints(batch[1]["id"]).phone == "p"
        assert inbox.get("unknown") is None and inbox.receipt_owner("NOPE") is None and inbox.fingerprints("x") is None


def test_records_come_back_in_the_order_they_were_stored_minute_by_minute(place):
    minutes = [f"2026-12-01T0{n}:15:00+00:00" for n in range(4)]
    batches = [[stored_record(received_at=minute) for _ in range(3)] for minute in minutes]
    with place.open(segment_size=5) as store:  # an engine may ignore the size; the order must hold across units
        for batch in batches:
            store.submissions.add(batch)
        stored = list(store.submissions.records())
    # Minute after minute as stored; within a minute, a batch's own order is not kept.
    assert [r["received_at"] for r in stored] == [m for m in minutes for _ in range(3)]
    assert [{r["id"] for r in stored[n:n + 3]} for n in (0, 3, 6, 9)] == [{r["id"] for r in b} for b in batches]


def test_an_arrival_time_is_kept_to_the_minute(place):
    record = stored_record(received_at="2026-12-01T08:15:42.318+00:00")
    with place.open() as store:
        store.submissions.add([record])
    with place.open() as store:
        assert store.submissions.get(record["id"])["received_at"] == "2026-12-01T08:15:00+00:00"
        assert next(store.submissions.records())["received_at"] == "2026-12-01T08:15:00+00:00"


def test_within_one_minute_records_are_not_kept_batch_by_batch(place):
    # Sixty batches of two in one minute: placed batch by batch, all sixty pairs would be
    # neighbours; in a random order of 120 about one is (12 or more: odds below one in a billion).
    minute = "2026-12-01T08:15:00+00:00"
    pairs = [[stored_record(received_at=minute), stored_record(received_at=minute)] for _ in range(60)]
    with place.open() as store:
        for pair in pairs:
            store.submissions.add(pair)
        order = [r["id"] for r in store.submissions.records()]
    assert sorted(order) == sorted(r["id"] for pair in pairs for r in pair)  # nothing lost, nothing doubled
    place_of = {i: n for n, i in enumerate(order)}
    assert sum(abs(place_of[a["id"]] - place_of[b["id"]]) == 1 for a, b in pairs) < 12


def test_what_add_acknowledged_survives_the_process_dying_at_once(place):
    ran = place.in_another_process("""
        import os
        from tests.sync_server.store.contract.conftest import read_while_writing, stored_record
        store = place.open()
        store.submissions.add([stored_record(feeling="活下来")])
        os._exit(0)  # no close, no flush, no exit handlers: only what add made durable is left
    """)
    assert ran.returncode == 0, ran.stderr
    with place.open() as store:
        assert [r["feeling"] for r in store.submissions.records()] == ["活下来"]


def test_a_batch_that_fails_to_store_leaves_nothing_behind(place, monkeypatch):
    with place.open() as store:
        store.submissions.add([stored_record()])
        unstorable = [stored_record(), stored_record(feeling=object())]  # cannot be encoded
        with pytest.raises(Exception):  # noqa: B017 - the engine's own error; the point is what is left
            store.submissions.add(unstorable)
        assert len(store.submissions) == 1
    with place.open() as store:
        assert len(store.submissions) == 1


def test_a_second_writer_is_refused_and_a_reader_is_not(place):
    with place.open() as store:
        with pytest.raises(StoreLocked):
            place.open()
        with place.open(writer=False) as reader:
            assert len(reader.submissions) == len(store.submissions)
    with place.open():
        pass  # closing let the lock go


def test_a_reader_refuses_to_write(place):
    place.open().close()
    with place.open(writer=False) as reader:
        with pytest.raises(StoreLocked):
            reader.submissions.add([stored_record()])


def test_a_reader_beside_the_writer_sees_whole_batches_only(place):
    size = 5
    with place.open() as store:
        seen = read_while_writing(place, lambda reader: sum(1 for _ in reader.submissions.records()), lambda: [
            store.submissions.add([stored_record() for _ in range(size)]) for _ in range(20)])
    assert seen and all(n % size == 0 for n in seen), seen


def test_every_durable_write_is_told_to_the_listener(place):
    told: list[list[str]] = []
    with place.open() as store:
        store.submissions.on_change = lambda records: told.append([r["id"] for r in records])
        first = stored_record(phone="13800138000", consent=True, phone_fingerprint="p")
        store.submissions.add([first])
        store.submissions.redact_phones({first["id"]})
        store.submissions.rewrite(lambda r: {**r, "feeling": "改写"})
    assert told == [[first["id"]]] * 3


def test_redacting_a_phone_removes_it_with_its_consent_and_digest_and_says_so(place):
    kept, redacted = stored_record(phone="13900139000", consent=True, phone_fingerprint="k"), \
        stored_record(phone="13800138000", consent=True, phone_fingerprint="p")
    with place.open() as store:
        store.submissions.add([kept, redacted])
        assert {r["id"] for r in store.submissions.records_with_phones()} >= {kept["id"], redacted["id"]}
        assert store.submissions.redact_phones({redacted["id"], "unknown"}) == 1
        assert store.submissions.redact_phones({redacted["id"]}) == 0  # nothing left to remove
    with place.open() as store:
        gone = store.submissions.get(redacted["id"])
        assert (gone["phone"], gone["consent"], gone["phone_fingerprint"]) == (None, False, None)
        assert "phone_removed" in gone["flags"] and store.submissions.fingerprints(redacted["id"]).phone_removed
        assert store.submissions.get(kept["id"])["phone"] == "13900139000"
        # "At least" those that may hold a phone: what still holds one is among them.
        assert kept["id"] in {r["id"] for r in store.submissions.records_with_phones()}


def test_rewrite_changes_what_it_returns_and_leaves_the_rest(place):
    records = [stored_record() for _ in range(4)]
    with place.open(segment_size=2) as store:
        store.submissions.add(records[:2])
        store.submissions.add(records[2:])
        changed = store.submissions.rewrite(lambda r: {**r, "feeling": "已改"} if r["id"] in (records[0]["id"], records[3]["id"])
                                            else None)
        assert changed == 2
    with place.open() as store:
        assert {r["id"]: r["feeling"] for r in store.submissions.records()} == {
            records[0]["id"]: "已改", records[1]["id"]: records[1]["feeling"], records[2]["id"]: records[2]["feeling"],
            records[3]["id"]: "已改"}
        assert store.submissions.get(records[3]["id"])["feeling"] == "已改"


def test_a_fresh_store_has_no_problems(place):
    with place.open() as store:
        assert store.problems() == [] and store.submissions.warnings == []
