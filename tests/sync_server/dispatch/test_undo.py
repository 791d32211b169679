"""撤回: one's own last step, within the registry's minutes, as a new step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync_server.triage import TriageError, allowed_actions
from tests.sync_server.dispatch.world import MARKET, NOW, STAFF, URBAN, act, dispatched


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


def test_earlier_steps_keep_only_who_held_the_matter_and_by_when():
    entry = act(dispatched("market", deadline="2026-12-01"), "reassign", department="urban", note="派错了")
    entry = act(entry, "sign", account=URBAN)
    assign, reassign, sign = entry["history"][-3:]
    # The figures read the holder at every step; only the last step can be taken back whole.
    assert set(assign["before"]) <= {"department", "deadline", "sign_due"} and assign["before"]["department"] == ""
    assert set(reassign["before"]) <= {"department", "deadline", "sign_due"}
    assert reassign["before"]["department"] == "market"
    assert "signed_at" in sign["before"]


def test_a_step_that_changed_only_the_status_or_nothing_is_taken_back_by_its_status():
    from sync_server.triage import new_entry

    accepted = act(new_entry("2026-11-20T01:00:00+00:00"), "accept")
    assert act(accepted, "undo")["status"] == "received"
    noted = act(act(dispatched("market"), "sign", MARKET), "progress", MARKET, note="已约谈")
    undone = act(noted, "undo", MARKET)
    assert undone["status"] == "in_progress" and undone["history"][-1]["undid"] == len(noted["history"]) - 1
