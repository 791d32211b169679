"""The seam's promises at their edges: a write that failed is told to nobody, entries
refuse changes, the last write wins after a reopen, a reader sees a `put_many` whole, an
unknown name costs a password check, a disabled account stays disabled. Each was found
missing by breaking an engine on purpose (the mutant is named in each test).
"""

from __future__ import annotations

import hashlib

import pytest

from sync_server.store.accounts import dummy_hash
from sync_server.triage import new_entry
from tests.sync_server.store.contract.conftest import read_while_writing, stored_record

PASSWORD = "a long enough password"


def _entry(status: str = "accepted", **fields) -> dict:
    return {**new_entry("2026-12-01T08:00:00+00:00"), "status": status, **fields}


# -- Submissions -------------------------------------------------------------------------

def test_a_batch_that_failed_to_store_is_not_told_to_the_listener(place):
    # Mutant: `_notify` called before the write (the listener hears of records that are
    # not stored; the office index would list them until the next restart).
    told: list[list[str]] = []
    with place.open() as store:
        store.submissions.on_change = lambda records: told.append([r["id"] for r in records])
        with pytest.raises(Exception):  # noqa: B017 - the engine's own error
            store.submissions.add([stored_record(), stored_record(feeling=object())])
    assert told == []


# -- TriageLog ---------------------------------------------------------------------------

def test_a_triage_write_that_failed_is_not_told_to_the_listener(place):
    # Mutant: the triage log's `on_change` called before the append. A lone surrogate
    # passes the entry's own checks but cannot be stored as UTF-8.
    told = []
    with place.open() as store:
        store.triage.on_change = lambda entries: told.append(sorted(entries))
        with pytest.raises(Exception):  # noqa: B017 - the engine's own error
            store.triage.put("a", _entry(reply="\ud800"))
        assert store.triage.entry("a") is None
    assert told == []


def test_stored_entries_refuse_changes(place):
    # Mutant: entries handed out as plain dicts (each a copy): the contract's own test
    # passes a copy as "read-only"; the promise is that they refuse changes.
    with place.open() as store:
        stored = store.triage.put("a", _entry())
        with pytest.raises(TypeError):
            stored["status"] = "closed"
        with pytest.raises(TypeError):
            store.triage.entry("a")["status"] = "closed"


def test_the_last_write_of_an_id_wins_also_after_reopening(place):
    # Mutant: the log read back first-write-wins; the contract only read it in one handle.
    with place.open() as store:
        store.triage.put("a", _entry("accepted"))
        store.triage.put("a", _entry("assigned", lead="区市场监督管理局"))
        store.triage.put_many({"a": _entry("closed"), "b": _entry()})
    with place.open(writer=False) as reader:
        assert reader.triage.entry("a")["status"] == "closed"


def test_a_reader_sees_both_entries_of_a_put_many_or_neither(place):
    # Mutant: `put_many` written as one append per entry (a merge half-applied).
    pairs = 40
    with place.open() as store:
        seen = read_while_writing(place, lambda reader: set(reader.triage.all()), lambda: [
            store.triage.put_many({f"a{n}": _entry("closed", outcome="merged", merged_into=f"b{n}"),
                                   f"b{n}": _entry("accepted", merged=[f"a{n}"])}) for n in range(pairs)])
    halves = [n for entries in seen for n in range(pairs) if (f"a{n}" in entries) != (f"b{n}" in entries)]
    assert halves == []


# -- Accounts ----------------------------------------------------------------------------

def test_an_unknown_name_costs_a_password_check_too(place, quick_scrypt, monkeypatch):
    # Mutant: `authenticate` answers an unknown name at once (names found by timing).
    accounts = place.accounts()
    accounts.add("amy", PASSWORD, "staff")
    dummy_hash()  # made once, at first use; not what is counted
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert accounts.authenticate("amy", "wrong password") is None
    wrong_password = len(calls)
    assert accounts.authenticate("nobody", PASSWORD) is None
    assert len(calls) - wrong_password == wrong_password >= 1


def test_disabling_is_durable_and_seen_by_another_handle(place, quick_scrypt):
    # Mutant: `disable` changes the handle's memory only.
    place.accounts().add("amy", PASSWORD, "staff")
    first = place.accounts().get("amy").generation
    place.accounts().disable("amy")
    again = place.accounts()
    assert again.get("amy").disabled and again.get("amy").generation > first
    assert again.authenticate("amy", PASSWORD) is None
