"""The 回访 list's rules: closed matters not yet reached by phone this round wait (未接通
ones with their count), a call that reached the citizen ends the wait until 重新办理,
open matters and merged duplicates never wait, and only staff see the list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sync_server.office.callbacks import may_call, waiting
from sync_server.store.accounts import Account
from sync_server.triage import apply, new_entry

T0 = datetime(2026, 11, 20, 2, tzinfo=timezone.utc)


def _closed(hours: int = 0) -> dict:
    entry = apply(new_entry(T0.isoformat()), "accept", {}, "amy", T0)
    at = (T0 + timedelta(hours=hours)).isoformat()
    return {**entry, "status": "closed", "closed_at": at, "outcome": "resolved", "public_reply": "已处理。"}


def _call(entry, outcome, hours=1):
    return apply(entry, "follow_up", {"satisfaction": outcome}, "amy", T0 + timedelta(hours=hours))


def test_a_closed_matter_never_called_waits_and_the_longest_closed_comes_first():
    found = waiting([("late", _closed(5)), ("early", _closed(1))])
    assert [(w.id, w.attempts) for w in found] == [("early", 0), ("late", 0)]


def test_no_answer_calls_keep_it_waiting_with_their_count():
    entry = _call(_call(_closed(), "no_answer"), "no_answer", hours=2)
    [found] = waiting([("a", entry)])
    assert found.attempts == 2


def test_a_call_that_reached_the_citizen_ends_the_wait_whatever_they_said():
    for outcome in ("satisfied", "fair", "dissatisfied"):
        assert waiting([("a", _call(_closed(), outcome))]) == []


def test_a_reopened_matter_closed_again_waits_for_a_new_call():
    entry = apply(_call(_closed(), "dissatisfied"), "reopen", {"reopen_reason": "重新核查"}, "amy", T0 + timedelta(hours=2))
    assert waiting([("a", entry)]) == []  # open again: nobody calls about an open matter
    closed_again = {**entry, "status": "closed", "closed_at": (T0 + timedelta(days=3)).isoformat(), "outcome": "resolved"}
    [found] = waiting([("a", closed_again)])
    assert found.attempts == 0


def test_an_older_versions_call_without_a_choice_counts_as_reached():
    entry = {**_closed(), "status": "followed_up",
             "history": [{"at": T0.isoformat(), "by": "amy", "action": "follow_up", "from": "closed", "to": "followed_up",
                          "note": ""}]}
    assert waiting([("a", entry)]) == []


def test_open_matters_and_merged_duplicates_never_wait():
    merged = {**_closed(), "outcome": "merged"}
    opened = {**_closed(), "status": "in_progress", "closed_at": None}
    assert waiting([("m", merged), ("o", opened)]) == []


def test_only_staff_may_call():
    def account(role):
        return Account(name="x", role=role, display="x", sectors=(), department="", disabled=False)
    assert may_call(account("staff"))
    assert not may_call(account("department")) and not may_call(account("viewer"))
