"""The dispatch actions: each from the right status, by the right account, with its step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync_server.triage import TriageError, allowed_actions
from tests.sync_server.dispatch.world import MARKET, NOW, POLICE, STAFF, URBAN, act, dispatched


def test_assign_hands_the_matter_to_a_registry_department_with_default_deadline_and_sign_due():
    entry = dispatched("market", co_departments="urban")
    assert (entry["status"], entry["department"], entry["lead"]) == ("assigned", "market", "区市场监督管理局")
    assert entry["co_departments"] == ["urban"]
    assert entry["deadline"] == "2026-12-02"  # today (2026-11-25) + 7 days for 立行立改
    assert entry["dispatched_at"] == NOW.isoformat(timespec="seconds") and entry["signed_at"] is None
    assert entry["sign_due"] == "2026-11-26T23:59:59+08:00"  # one working day
    step = entry["history"][-1]
    assert (step["action"], step["department"], step["by_display"]) == ("assign", "market", "王芳")


def test_assign_refuses_a_department_the_registry_does_not_list():
    with pytest.raises(TriageError) as info:
        dispatched("nobody")
    assert info.value.code == "unknown_department"


def test_assign_maps_an_older_forms_lead_name_to_its_department():
    returned = act(dispatched("market"), "send_back", MARKET, reason="不属我局")
    entry = act(act(returned, "assign", lead="区公安分局", track="immediate"), "sign", POLICE)
    assert entry["department"] == "police" and entry["status"] == "in_progress"


def test_a_co_department_cannot_be_the_lead():
    with pytest.raises(TriageError) as info:
        dispatched("market", co_departments="market")
    assert info.value.code == "co_is_lead"


def test_only_the_lead_department_signs_and_signing_starts_the_work():
    entry = dispatched("market", co_departments="urban")
    for account in (POLICE, URBAN, STAFF):
        with pytest.raises(TriageError):
            act(entry, "sign", account)
    signed = act(entry, "sign", MARKET)
    assert signed["status"] == "in_progress" and signed["signed_at"] == NOW.isoformat(timespec="seconds")
    assert signed["history"][-1]["by_display"] == "市场李科长"


def test_send_back_needs_a_reason_and_returns_the_matter_to_the_office():
    entry = dispatched("market")
    with pytest.raises(TriageError) as info:
        act(entry, "send_back", MARKET)
    assert info.value.code == "missing_return_reason"
    returned = act(entry, "send_back", MARKET, reason="不属本局职责")
    assert (returned["status"], returned["returned_by"], returned["department"]) == ("returned", "market", "")
    assert returned["history"][-1]["note"] == "不属本局职责"
    again = act(returned, "assign", department="police", track="immediate")
    assert (again["status"], again["department"], again["returned_by"]) == ("assigned", "police", "")


def test_extension_asked_by_the_lead_then_granted_or_refused_by_staff():
    entry = act(dispatched("market"), "sign", MARKET)
    with pytest.raises(TriageError) as info:
        act(entry, "ask_extension", MARKET, deadline="2026-12-01", reason="需要调查")
    assert info.value.code == "extension_not_later"
    asked = act(entry, "ask_extension", MARKET, deadline="2026-12-20", reason="需要调查")
    assert asked["extension"]["deadline"] == "2026-12-20" and asked["deadline"] == "2026-12-02"
    assert "grant_extension" in allowed_actions(asked, "staff", STAFF, NOW)
    granted = act(asked, "grant_extension")
    assert granted["deadline"] == "2026-12-20" and granted["extension"] is None
    with pytest.raises(TriageError) as info:
        act(asked, "refuse_extension")
    assert info.value.code == "missing_refusal_reason"
    refused = act(asked, "refuse_extension", note="期限不变")
    assert refused["deadline"] == "2026-12-02" and refused["extension"] is None
    with pytest.raises(TriageError):
        act(refused, "grant_extension")


def test_co_departments_add_progress_notes_but_only_the_lead_submits():
    entry = act(dispatched("market", co_departments="urban"), "sign", MARKET)
    noted = act(entry, "progress", URBAN, note="已联合检查")
    assert noted["history"][-1]["note"] == "已联合检查" and noted["status"] == "in_progress"
    with pytest.raises(TriageError) as info:
        act(entry, "progress", POLICE, note="x")
    assert info.value.code == "not_your_matter"
    with pytest.raises(TriageError):
        act(entry, "submit", URBAN, outcome="resolved", result="已整改", public_reply="已整改")


def test_submit_then_review_closes_or_sends_back_for_redo():
    entry = act(dispatched("market"), "sign", MARKET)
    with pytest.raises(TriageError) as info:
        act(entry, "submit", MARKET, outcome="resolved", public_reply="已整改")
    assert info.value.code == "missing_result"
    proposed = act(entry, "submit", MARKET, outcome="partly", result="已约谈", public_reply="已约谈商户")
    assert proposed["status"] == "review" and proposed["proposal"]["outcome"] == "partly"
    redone = act(proposed, "redo", note="请补充照片")
    assert redone["status"] == "in_progress" and redone["proposal"] is None
    closed = act(act(redone, "submit", MARKET, outcome="resolved", result="已整改", public_reply="已整改完毕"), "approve")
    assert (closed["status"], closed["outcome"], closed["public_reply"]) == ("closed", "resolved", "已整改完毕")
    assert closed["proposal"] is None and closed["closed_at"]


def test_reassign_moves_the_matter_needs_a_reason_and_resets_signing():
    entry = act(act(dispatched("market"), "sign", MARKET), "ask_extension", MARKET, deadline="2026-12-30", reason="x")
    with pytest.raises(TriageError) as info:
        act(entry, "reassign", department="market", note="x")
    assert info.value.code == "same_department"
    with pytest.raises(TriageError) as info:
        act(entry, "reassign", department="police")
    assert info.value.code == "missing_reassign_reason"
    moved = act(entry, "reassign", department="police", note="属治安")
    assert (moved["status"], moved["department"], moved["signed_at"], moved["extension"]) == ("assigned", "police", None, None)
    step = moved["history"][-1]
    assert (step["from_department"], step["department"], step["note"]) == ("market", "police", "属治安")
    with pytest.raises(TriageError) as info:
        act(moved, "progress", MARKET, note="还在办")
    assert info.value.code == "not_your_matter"


def test_urge_counts_and_staff_may_not_take_the_departments_steps():
    entry = dispatched("market")
    urged = act(act(entry, "urge"), "urge", note="请尽快签收")
    assert urged["urges"] == 2 and urged["history"][-1]["note"] == "请尽快签收"
    with pytest.raises(TriageError) as info:
        act(entry, "urge", MARKET)
    assert info.value.code == "not_your_action"


def test_department_is_offered_only_its_own_steps_on_its_own_matters():
    entry = dispatched("market", co_departments="urban")
    assert allowed_actions(entry, "department", MARKET, NOW) == ["sign", "send_back", "ask_extension", "progress",
                                                                 "flag_weekly"]
    assert allowed_actions(entry, "department", URBAN, NOW) == ["progress"]
    assert allowed_actions(entry, "department", POLICE, NOW) == []
    later = NOW + timedelta(hours=1)
    assert "sign" not in allowed_actions(entry, "staff", STAFF, later) and "undo" not in allowed_actions(entry, "staff", STAFF, later)


def test_every_step_keeps_the_actors_display_name():
    entry = act(dispatched("market"), "sign", MARKET)
    assert [s["by_display"] for s in entry["history"]] == ["王芳", "王芳", "市场李科长"]
