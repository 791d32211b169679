"""The lifecycle rules: every change allowed from the right status only, with history."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sync_server.triage import TriageError, apply, completed, damage, is_overdue, new_entry

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _through(*steps):
    entry = new_entry("2026-11-20T01:00:00+00:00")
    for action, fields in steps:
        entry = apply(entry, action, fields, "amy", NOW)
    return entry


ASSIGN = ("assign", {"lead": "区公安分局", "responsible": "儒林镇", "deadline": "2026-12-01", "track": "immediate"})


def test_full_lifecycle_from_received_to_followed_up_records_each_step():
    entry = _through(("accept", {}), ASSIGN, ("start", {"weekly": "yes"}), ("close", {"outcome": "resolved"}),
                     ("follow_up", {"satisfaction": "satisfied"}))
    assert entry["status"] == "followed_up" and entry["outcome"] == "resolved"
    assert entry["satisfaction_after"] == "satisfied" and entry["weekly"] is False
    assert [(h["from"], h["to"]) for h in entry["history"]] == [
        ("received", "accepted"), ("accepted", "assigned"), ("assigned", "in_progress"),
        ("in_progress", "closed"), ("closed", "followed_up"),
    ]
    assert all(h["by"] == "amy" and h["at"] for h in entry["history"])
    assert entry["history"][1]["note"] == "区公安分局牵头，立行立改，期限 2026-12-01"


def test_dissatisfied_follow_up_flags_the_matter_and_leaves_the_choice_to_staff():
    # Issue 22: staff choose 重新办理 or 维持原处理; a 不满意 call no longer reopens by itself.
    entry = _through(("accept", {}), ASSIGN, ("close", {"outcome": "partly"}), ("follow_up", {"satisfaction": "dissatisfied"}))
    assert entry["status"] == "closed" and entry["outcome"] == "partly" and entry["satisfaction_after"] == "dissatisfied"
    assert entry["dissatisfied"] is True and entry["calls"] == 1
    assert (entry["verdict"]["choice"], entry["verdict"]["source"]) == ("dissatisfied", "phone")


def test_decline_needs_a_reason():
    with pytest.raises(TriageError, match="不予受理的理由"):
        _through(("decline", {}))
    with pytest.raises(TriageError, match="公开答复"):
        _through(("decline", {"reason": "不属于本次整治范围"}))
    declined = _through(("decline", {"reason": "不属于本次整治范围", "public_reply": "感谢反映，此事不属于本次整治范围。"}))
    assert declined["reason"] == "不属于本次整治范围" and declined["public_reply"] == "感谢反映，此事不属于本次整治范围。"


@pytest.mark.parametrize(
    "steps, action, fields",
    [
        ((), "close", {"outcome": "resolved"}),
        ((), "assign", ASSIGN[1]),
        ((("accept", {}),), "follow_up", {"satisfaction": "fair"}),
        ((("decline", {"reason": "x", "public_reply": "y"}),), "accept", {}),
        ((("accept", {}), ASSIGN, ("close", {"outcome": "resolved"})), "close", {"outcome": "resolved"}),
    ],
)
def test_actions_out_of_order_are_refused_with_a_chinese_sentence(steps, action, fields):
    entry = _through(*steps)
    with pytest.raises(TriageError, match="状态下不能"):
        apply(entry, action, fields, "amy", NOW)


def test_assign_checks_deadline_and_track():
    with pytest.raises(TriageError, match="年-月-日"):
        _through(("accept", {}), ("assign", {**ASSIGN[1], "deadline": "next week"}))
    with pytest.raises(TriageError, match="立行立改"):
        _through(("accept", {}), ("assign", {**ASSIGN[1], "track": "someday"}))


def test_outcome_is_kept_apart_from_status():
    entry = _through(("accept", {}), ASSIGN, ("close", {"outcome": "not_ours"}))
    assert (entry["status"], entry["outcome"]) == ("closed", "not_ours")
    with pytest.raises(TriageError):
        _through(("accept", {}), ASSIGN, ("close", {"outcome": "merged"}))  # only a merge merges


def test_overdue_means_past_deadline_and_still_open():
    entry = _through(("accept", {}), ASSIGN)
    assert not is_overdue(entry, date(2026, 12, 1))
    assert is_overdue(entry, date(2026, 12, 2))
    assert not is_overdue(apply(entry, "close", {"outcome": "resolved"}, "amy", NOW), date(2026, 12, 2))


@pytest.mark.parametrize("field, value, why", [
    ("co_departments", "market", "co_departments is not a list of ids"),
    ("department", 3, "department is not text"),
    ("extension", {"deadline": "soon"}, "extension is not a request"),
    ("proposal", {"outcome": "won", "result": "", "public_reply": ""}, "proposal is not a proposal"),
    ("urges", True, "urges is not a count"),
    ("lead_unmapped", "yes", "lead_unmapped is not true or false"),
])
def test_damage_names_a_dispatch_field_of_the_wrong_type(field, value, why):
    assert damage({**new_entry("2026-11-20T01:00:00+00:00"), field: value}) == why


def test_an_older_entry_without_the_dispatch_fields_is_sound_and_completed_at_their_defaults():
    older = {k: v for k, v in _through(("accept", {}), ASSIGN).items()
             if k not in ("department", "co_departments", "extension", "proposal", "urges", "supervision")}
    assert damage(older) is None
    full = completed(older)
    assert (full["department"], full["co_departments"], full["urges"], full["proposal"]) == ("", [], 0, None)


def test_every_step_names_its_actor_and_keeps_what_it_changed():
    entry = _through(("accept", {}), ASSIGN)
    step = entry["history"][-1]
    assert step["by_display"] == "amy" and step["before"]["deadline"] is None and step["before"]["lead"] == ""
