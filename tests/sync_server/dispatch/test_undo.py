"""撤回: one's own last step, within the registry's minutes, as a new step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync_server.triage import TriageError, allowed_actions
from tests.sync_server.dispatch.world import MARKET, NOW, STAFF, act, dispatched


def test_undo_of_a_dispatch_restores_the_fields_it_changed_as_a_new_step():
    entry = dispatched("market", co_departments="urban")
    undone = act(entry, "undo", now=NOW + timedelta(minutes=9))
    assert (undone["status"], undone["department"], undone["co_departments"], undone["deadline"]) == ("accepted", "", [], None)
    assert len(undone["history"]) == 3  # nothing deleted
    step = undone["history"][-1]
    assert (step["action"], step["undid"], step["from"], step["to"], step["by_display"]) == ("undo", 1, "assigned", "accepted", "王芳")


def test_undo_of_a_sign_puts_the_matter_back_to_be_signed():
    signed = act(dispatched("market"), "sign", MARKET)
    undone = act(signed, "undo", MARKET)
    assert (undone["status"], undone["signed_at"]) == ("assigned", None)


def test_undo_is_refused_after_the_window_or_when_someone_acted_since():
    entry = dispatched("market")
    with pytest.raises(TriageError) as info:
        act(entry, "undo", now=NOW + timedelta(minutes=11))
    assert info.value.code == "undo_too_late"
    signed = act(entry, "sign", MARKET)
    with pytest.raises(TriageError) as info:
        act(signed, "undo")  # the office's dispatch is no longer the last step
    assert info.value.code == "nothing_to_undo"
    assert "undo" not in allowed_actions(signed, "staff", STAFF, NOW)
    assert "undo" in allowed_actions(signed, "department", MARKET, NOW)


def test_an_undo_cannot_itself_be_undone():
    undone = act(dispatched("market"), "undo")
    with pytest.raises(TriageError) as info:
        act(undone, "undo")
    assert info.value.code == "undo_not_possible"


def test_undo_of_a_submit_removes_the_proposal_and_goes_back_to_handling():
    proposed = act(act(dispatched("market"), "sign", MARKET), "submit", MARKET, outcome="resolved", result="已整改",
                   public_reply="已整改")
    undone = act(proposed, "undo", MARKET)
    assert (undone["status"], undone["proposal"]) == ("in_progress", None)
