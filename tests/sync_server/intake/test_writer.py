"""The intake's writer: whatever one item or one batch does, every waiting batch gets an
answer, the honest ones are stored, and the writer keeps going."""

from __future__ import annotations

import asyncio
import errno
from datetime import datetime, timedelta, timezone

import pytest

from sync_server.intake.writer import Intake
from sync_server.stations import StationBook
from sync_server.store.embedded import tinystore
from sync_server.store.embedded.inbox import Inbox
from sync_server.web.errors import ApiError
from tests.sync_server.conftest import make_item

ANSWER_WITHIN_S = 10


@pytest.fixture
def intake(tmp_path, registry_file):
    with Inbox(tmp_path / "data") as inbox:
        yield Intake(inbox, StationBook(registry_file), inbox.data_dir)


def _together(intake: Intake, *batches: list) -> list:
    """Submit batches in one group commit; each answer (results or the error), within a deadline."""

    async def run():
        # Both submits queue before the writer task first runs, so they share one write.
        return await asyncio.wait_for(
            asyncio.gather(*(intake.submit("d", b) for b in batches), return_exceptions=True), ANSWER_WITHIN_S
        )

    return asyncio.run(run())


def _statuses(results) -> list[str]:
    return [r.status for r in results]


def test_a_lone_surrogate_beside_an_honest_concurrent_batch_both_answered_honest_one_stored(intake):
    honest = [make_item(), make_item()]
    hostile = [make_item(feeling="坏\ud800字"), make_item(suggestion="\udfff")]
    good, bad = _together(intake, honest, hostile)
    assert _statuses(good) == ["accepted", "accepted"]
    assert _statuses(bad) == ["rejected", "rejected"]
    assert {r.error["code"] for r in bad} == {"invalid_text"}
    assert {r["id"] for r in intake.inbox.records()} == {i["id"] for i in honest}
    # The writer is still there for the next batch.
    [(later,)] = [_together(intake, [make_item()])]
    assert _statuses(later) == ["accepted"]


def test_a_failure_while_deciding_one_item_rejects_that_item_only(intake, monkeypatch):
    real = intake.stations.station

    def station(station_id):
        if station_id == "jincheng-old-market":
            raise KeyError("a bug in the registry code")
        return real(station_id)

    monkeypatch.setattr(intake.stations, "station", station)
    poisoned, honest = make_item(station_id="jincheng-old-market"), make_item()
    [results, others] = _together(intake, [poisoned, honest], [make_item()])
    assert _statuses(results) == ["rejected", "accepted"] and _statuses(others) == ["accepted"]
    assert results[0].id == poisoned["id"] and results[0].error["code"] == "internal"
    assert len(intake.inbox) == 2


def test_a_batch_that_cannot_be_written_fails_alone_and_its_neighbours_are_stored(intake, monkeypatch):
    real_add = intake.inbox.add

    def add(records):
        if any(r["feeling"] == "无法写入" for r in records):
            raise TypeError("a record the storage cannot serialise")
        real_add(records)

    monkeypatch.setattr(intake.inbox, "add", add)
    first, poisoned, last = [make_item()], [make_item(feeling="无法写入"), make_item()], [make_item()]
    answers = _together(intake, first, poisoned, last)
    assert _statuses(answers[0]) == ["accepted"] and _statuses(answers[2]) == ["accepted"]
    assert isinstance(answers[1], ApiError) and answers[1].status == 500 and answers[1].code == "server_error"
    assert {r["id"] for r in intake.inbox.records()} == {first[0]["id"], last[0]["id"]}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_a_full_disk_answers_507_acknowledges_nothing_and_the_writer_recovers(intake, monkeypatch, code):
    earlier = [make_item()]
    _together(intake, earlier)
    real_write = tinystore.atomic_write
    full = {"on": True}

    def atomic_write(path, payload):
        if full["on"]:
            raise OSError(code, "No space left on device")
        real_write(path, payload)

    monkeypatch.setattr(tinystore, "atomic_write", atomic_write)
    waiting = [make_item(), make_item()]
    one, two = _together(intake, waiting[:1], waiting[1:])
    for answer in (one, two):
        assert isinstance(answer, ApiError) and answer.status == 507 and answer.code == "insufficient_storage"
        assert "存储空间" in answer.message and answer.headers["Retry-After"]
    assert [r["id"] for r in intake.inbox.records()] == [earlier[0]["id"]]

    full["on"] = False  # space is back: the same records go in, once
    [again] = _together(intake, waiting)
    assert _statuses(again) == ["accepted", "accepted"]
    stored = [r["id"] for r in intake.inbox.records()]  # within a minute, in no batch's order
    assert sorted(stored) == sorted([earlier[0]["id"], *(i["id"] for i in waiting)])
    with Inbox(intake.inbox.data_dir, writer=False) as reopened:
        assert len(reopened) == 3


def test_a_client_that_hangs_up_does_not_stop_the_answer_to_the_others(intake):
    async def run():
        gone = asyncio.create_task(intake.submit("d", [make_item()]))
        staying = asyncio.create_task(intake.submit("d", [make_item()]))
        await asyncio.sleep(0)  # both queued, the writer not yet run
        gone.cancel()
        return await asyncio.wait_for(staying, ANSWER_WITHIN_S)

    assert _statuses(asyncio.run(run())) == ["accepted"]
    assert len(intake.inbox) == 2  # the hung-up batch was still stored; its resend will be a duplicate


def test_the_clock_rule_uses_the_servers_time_of_receipt_and_the_store_keeps_its_minute(tmp_path, registry_file):
    now = datetime(2026, 11, 25, 2, 0, 37, 512000, tzinfo=timezone.utc)
    with Inbox(tmp_path / "data") as inbox:
        intake = Intake(inbox, StationBook(registry_file), inbox.data_dir, clock=lambda: now)
        ahead = make_item(created_at=(now + timedelta(hours=25)).isoformat())
        fine = make_item(created_at=(now + timedelta(hours=23)).isoformat())
        [results] = _together(intake, [ahead, fine])
        assert [r.flags for r in results] == [("clock_skew",), ()]
        assert inbox.get(ahead["id"])["received_at"] == "2026-11-25T02:00:00+00:00"
