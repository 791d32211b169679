"""The triage log's promises (`interfaces.TriageLog`), held against every engine."""

from __future__ import annotations

import pytest

from sync_server.store import StoreLocked, TriageLog
from sync_server.triage import new_entry


def _entry(status: str = "accepted", **fields) -> dict:
    return {**new_entry("2026-12-01T08:00:00+00:00"), "status": status, **fields}


def test_an_opened_triage_log_is_the_seams(place):
    with place.open() as store:
        assert isinstance(store.triage, TriageLog)


def test_an_entry_reads_back_as_written_and_the_last_write_wins(place):
    with place.open() as store:
        assert store.triage.entry("a") is None and len(store.triage) == 0
        store.triage.put("a", _entry("accepted"))
        store.triage.put("a", _entry("assigned", lead="区市场监督管理局"))
        stored = store.triage.entry("a")
        assert (stored["status"], stored["lead"]) == ("assigned", "区市场监督管理局")
        assert set(store.triage.all()) == {"a"} and len(store.triage) == 1


def test_entries_are_durable_and_put_many_stores_all_of_them(place):
    with place.open() as store:
        store.triage.put_many({"a": _entry("closed", outcome="merged", merged_into="b"), "b": _entry("accepted", merged=["a"])})
    with place.open() as store:
        entries = store.triage.all()
        assert {k: v["status"] for k, v in entries.items()} == {"a": "closed", "b": "accepted"}
        assert list(entries["b"]["merged"]) == ["a"]
        assert entries["a"]["merged_into"] == "b"


def test_a_reader_catches_up_with_the_writer(place):
    with place.open() as store:
        store.triage.put("a", _entry())
        with place.open(writer=False) as reader:
            assert set(reader.triage.all()) == {"a"}
            store.triage.put("b", _entry())
            assert set(reader.triage.all()) == {"a", "b"}


def test_every_write_is_told_to_the_listener(place):
    told = []
    with place.open() as store:
        store.triage.on_change = lambda entries: told.append(sorted(entries))
        store.triage.put("a", _entry())
        store.triage.put_many({"b": _entry(), "c": _entry()})
    assert told == [["a"], ["b", "c"]]


def test_a_reader_refuses_to_write_the_triage_log(place):
    with place.open() as writer:
        writer.triage.put("a", _entry())
        with place.open(writer=False) as reader:
            with pytest.raises(StoreLocked):
                reader.triage.put("b", _entry("closed"))
            with pytest.raises(StoreLocked):
                reader.triage.put_many({"a": _entry("closed")})
        # Whatever the reader tried, the writer's log holds only the writer's entries.
        assert {k: v["status"] for k, v in writer.triage.all().items()} == {"a": "accepted"}
