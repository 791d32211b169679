"""群众说了算: the citizen's verdict, questions and answers, 回访 outcomes, 重新办理 /
维持原处理, and 公开 — each from the right status, by the right actor, with its step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync_server.dispatch.rules import CITIZEN
from sync_server.store.embedded.triageentry import freeze
from sync_server.triage import TriageError, allowed_actions, apply, damage, new_entry
from sync_server.verdicts import latest_question, verdict_open, verdict_until
from tests.sync_server.dispatch.world import MARKET, NOW, POLICE, REGISTRY, STAFF, act, dispatched

ID1, ID2, ID3 = "0b7c9a1e-0000-4000-8000-000000000001", "0b7c9a1e-0000-4000-8000-000000000002", \
    "0b7c9a1e-0000-4000-8000-000000000003"


def citizen(entry, action, now=NOW, **fields):
    return apply(entry, action, fields, "citizen", now, account=CITIZEN, registry=REGISTRY)


def closed():
    entry = act(dispatched("market"), "sign", MARKET)
    entry = act(entry, "submit", MARKET, outcome="resolved", result="已清理", public_reply="已清理占道摊点。")
    return act(entry, "approve")


def refused(code, entry, action, account=None, **fields):
    with pytest.raises(TriageError) as info:
        if account is None:
            citizen(entry, action, **fields)
        else:
            act(entry, action, account, **fields)
    assert info.value.code == code


def test_a_verdict_on_a_closed_matter_is_kept_with_its_round_and_its_step():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="fair", comment="还行")
    verdict = entry["verdict"]
    assert (verdict["choice"], verdict["source"], verdict["round"], verdict["comment"]) == ("fair", "receipt", 1, "还行")
    assert verdict["first_at"] == verdict["at"] == NOW.isoformat(timespec="seconds")
    step = entry["history"][-1]
    assert (step["action"], step["by"], step["by_display"], step["client_id"], step["choice"]) == (
        "verdict", "citizen", "群众", ID1, "fair")
    assert entry["dissatisfied"] is False and entry["status"] == "closed"


def test_a_dissatisfied_verdict_flags_the_matter_and_a_change_within_15_days_clears_it():
    entry = citizen(closed(), "verdict", client_id=ID1, round="1", choice="dissatisfied")
    assert entry["dissatisfied"] is True
    later = NOW + timedelta(days=15)
    changed = citizen(entry, "verdict", now=later, client_id=ID2, round=1, choice="satisfied")
    assert changed["dissatisfied"] is False and changed["verdict"]["first_at"] == entry["verdict"]["first_at"]
    assert [s.get("choice") for s in changed["history"][-2:]] == ["dissatisfied", "satisfied"]  # every change kept


def test_a_verdict_cannot_change_after_15_days():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="fair")
    assert verdict_until(entry["verdict"]).isoformat() == "2026-12-10"
    refused("too_late", entry, "verdict", now=NOW + timedelta(days=16), client_id=ID2, round=1, choice="satisfied")
    assert not verdict_open(entry, NOW + timedelta(days=16)) and verdict_open(entry, NOW)


def test_the_same_verdict_sent_twice_is_a_duplicate_even_after_the_matter_moved_on():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied")
    refused("duplicate", entry, "verdict", client_id=ID1, round=1, choice="dissatisfied")
    reopened = act(entry, "reopen", reopen_reason="群众不满意")
    refused("duplicate", reopened, "verdict", client_id=ID1, round=1, choice="dissatisfied")


@pytest.mark.parametrize("fields, code", [
    ({"client_id": ID1, "round": 1, "choice": "great"}, "bad_choice"),
    ({"client_id": ID1, "round": 1, "choice": ["satisfied"]}, "bad_choice"),
    ({"client_id": ID1, "round": 2, "choice": "fair"}, "not_yet_round"),
    ({"client_id": ID1, "round": True, "choice": "fair"}, "old_round"),
    ({"client_id": ID1, "choice": "fair"}, "old_round"),
    ({"round": 1, "choice": "fair"}, "missing_client_id"),
    ({"client_id": 7, "round": 1, "choice": "fair"}, "missing_client_id"),
    ({"client_id": ID1, "round": 1, "choice": "fair", "comment": "字" * 2001}, "too_long_comment"),
])
def test_a_bad_verdict_is_refused_with_its_code(fields, code):
    refused(code, closed(), "verdict", **fields)


def test_a_verdict_on_an_open_matter_is_refused_as_still_open():
    refused("still_open", dispatched("market"), "verdict", client_id=ID1, round=1, choice="fair")


def test_a_verdict_on_a_declined_matter_needs_its_public_reply():
    declined = apply(new_entry("2026-11-20T01:00:00+00:00"), "decline",
                     {"reason": "不属于", "public_reply": "感谢反映。"}, "amy", NOW)
    assert citizen(declined, "verdict", client_id=ID1, round=1, choice="fair")["verdict"]["choice"] == "fair"
    refused("no_reply_yet", {**declined, "public_reply": ""}, "verdict", client_id=ID1, round=1, choice="fair")


def test_a_verdict_on_a_merged_matter_is_refused():
    merged = act(act(new_entry("2026-11-20T01:00:00+00:00"), "accept"), "merge", into="other")
    refused("merged_citizen", merged, "verdict", client_id=ID1, round=1, choice="fair")


def test_a_sealed_comment_is_kept_sealed_and_never_as_plain_text():
    envelope = {"v": 1, "kid": "k1", "ct": "abc"}
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="fair", comment_sealed=envelope, comment="明文")
    assert entry["verdict"]["comment"] == "" and entry["verdict"]["comment_sealed"] == envelope
    assert entry["history"][-1]["comment"] == "" and "明文" not in repr(entry)


def test_the_citizen_may_take_only_verdict_and_answer():
    for action, fields in [("reply", {"public_reply": "x"}), ("reopen", {"reopen_reason": "x"}),
                           ("ask", {"question": "x"}), ("publish", {"public_title": "x", "public_done": "y"}),
                           ("follow_up", {"satisfaction": "satisfied"}), ("undo", {})]:
        refused("not_your_action", closed(), action, **fields)


def test_staff_and_departments_cannot_give_the_citizens_verdict_or_answer():
    refused("not_your_action", closed(), "verdict", STAFF, client_id=ID1, round=1, choice="fair")
    refused("not_your_action", closed(), "answer", MARKET, client_id=ID1, question="q1", text="x")


def test_a_question_is_asked_answered_flagged_and_seen():
    entry = act(dispatched("market"), "ask", question="请问具体是哪一天晚上？")
    assert latest_question(entry) == {"id": "q1", "asked_at": NOW.isoformat(timespec="seconds"),
                                      "text": "请问具体是哪一天晚上？", "answer": None}
    answered = citizen(entry, "answer", client_id=ID1, question="q1", text="周五晚上")
    assert answered["citizen_added"] is True and latest_question(answered) is None
    assert answered["questions"][0]["answer"] == {"at": NOW.isoformat(timespec="seconds"), "text": "周五晚上",
                                                  "sealed": None}
    refused("duplicate", answered, "answer", client_id=ID1, question="q1", text="周五晚上")
    refused("answered", answered, "answer", client_id=ID2, question="q1", text="改一下")
    assert "seen_answer" in allowed_actions(answered, "department", MARKET)
    refused("not_your_matter", answered, "seen_answer", POLICE)
    seen = act(answered, "seen_answer", MARKET)
    assert seen["citizen_added"] is False and "seen_answer" not in allowed_actions(seen, "staff", STAFF)
    refused("no_answer_to_see", seen, "seen_answer", STAFF)


def test_asking_again_clears_the_answered_flag_and_numbers_the_question():
    entry = citizen(act(dispatched("market"), "ask", question="哪天？"), "answer", client_id=ID1, question="q1", text="周五")
    again = act(entry, "ask", question="几点？")
    assert again["citizen_added"] is False and latest_question(again)["id"] == "q2"


@pytest.mark.parametrize("fields, code", [
    ({"client_id": ID1, "question": "q9", "text": "x"}, "no_question"),
    ({"client_id": ID1, "question": ["q1"], "text": "x"}, "no_question"),
    ({"client_id": ID1, "question": "q1", "text": "   "}, "missing_text"),
    ({"client_id": ID1, "question": "q1", "text": "字" * 2001}, "too_long_text"),
])
def test_a_bad_answer_is_refused_with_its_code(fields, code):
    refused(code, act(dispatched("market"), "ask", question="哪天？"), "answer", **fields)


def test_a_question_is_at_most_500_characters():
    refused("too_long_question", dispatched("market"), "ask", STAFF, question="问" * 501)


def test_reopen_starts_a_new_round_with_the_same_department_and_keeps_the_verdict():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied")
    entry = act(entry, "publish", public_title="清理占道", public_done="已清理", station_id="park", sector="market")
    reopened = act(entry, "reopen", reopen_reason="群众反映问题仍在")
    assert (reopened["round"], reopened["status"], reopened["department"]) == (2, "assigned", "market")
    assert reopened["verdict"] is None and reopened["past_verdicts"] == [entry["verdict"]]
    assert reopened["dissatisfied"] is False and reopened["publication"] is None
    assert reopened["closed_at"] is None and reopened["outcome"] is None and reopened["signed_at"] is None
    assert reopened["deadline"] == "2026-12-02" and reopened["sign_due"] == "2026-11-26T23:59:59+08:00"
    assert reopened["history"][-1]["note"] == "群众反映问题仍在"
    refused("old_round", reopened, "verdict", client_id=ID2, round=1, choice="fair")
    refused("still_open", reopened, "verdict", client_id=ID2, round=2, choice="fair")


def test_reopen_of_a_declined_matter_goes_back_to_accepted():
    declined = apply(new_entry("2026-11-20T01:00:00+00:00"), "decline", {"reason": "x", "public_reply": "y"}, "amy", NOW)
    reopened = act(declined, "reopen", reopen_reason="重新研究", deadline="2026-12-20")
    assert (reopened["status"], reopened["round"], reopened["deadline"]) == ("accepted", 2, "2026-12-20")


def test_reopen_needs_a_reason_and_a_deadline_not_past():
    refused("missing_reopen_reason", closed(), "reopen", STAFF)
    refused("deadline_past", closed(), "reopen", STAFF, reopen_reason="x", deadline="2026-11-01")


def test_maintain_needs_a_dissatisfied_matter_and_a_public_reason():
    refused("not_dissatisfied", closed(), "maintain", STAFF, maintain_reason="x")
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied")
    assert "maintain" in allowed_actions(entry, "staff", STAFF)
    refused("missing_maintain_reason", entry, "maintain", STAFF)
    kept = act(entry, "maintain", maintain_reason="已依法处理完毕")
    assert kept["maintained"] == {"reason": "已依法处理完毕", "at": NOW.isoformat(timespec="seconds"), "round": 1}
    assert kept["dissatisfied"] is False and kept["status"] == "closed"


@pytest.mark.parametrize("outcome, status, verdict", [
    ("satisfied", "followed_up", "satisfied"), ("fair", "followed_up", "fair"),
    ("dissatisfied", "closed", "dissatisfied"), ("no_answer", "closed", None),
])
def test_a_call_counts_and_records_a_phone_verdict_except_when_unanswered(outcome, status, verdict):
    entry = act(closed(), "follow_up", satisfaction=outcome)
    assert entry["calls"] == 1 and entry["status"] == status
    assert (entry["verdict"] or {}).get("choice") == verdict
    assert entry["dissatisfied"] is (outcome == "dissatisfied")
    if verdict:
        assert entry["verdict"]["source"] == "phone"
    assert act(entry, "follow_up", satisfaction="no_answer")["calls"] == 2


def test_a_call_is_refused_for_a_bad_outcome_and_on_an_open_matter():
    refused("choose_satisfaction", closed(), "follow_up", STAFF, satisfaction="maybe")
    refused("not_allowed", dispatched("market"), "follow_up", STAFF, satisfaction="satisfied")


def test_publish_keeps_staff_words_and_the_closing_month_and_unpublish_withdraws():
    entry = act(closed(), "publish", public_title="清理占道摊点", public_done="城管已清理", station_id="park",
                sector="market")
    assert entry["publication"] == {"title": "清理占道摊点", "done": "城管已清理", "month": "2026-11",
                                    "published_at": NOW.isoformat(timespec="seconds"), "station_id": "park",
                                    "sector": "market"}
    assert "unpublish" in allowed_actions(entry, "staff", STAFF)
    assert act(entry, "unpublish")["publication"] is None
    refused("not_published", closed(), "unpublish", STAFF)
    refused("too_long_public_title", closed(), "publish", STAFF, public_title="题" * 61, public_done="x")
    refused("too_long_public_done", closed(), "publish", STAFF, public_title="x", public_done="做" * 501)
    refused("not_allowed", dispatched("market"), "publish", STAFF, public_title="x", public_done="y")


def test_departments_cannot_reopen_maintain_ask_or_publish():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied")
    for action in ("reopen", "maintain", "ask", "publish", "unpublish", "follow_up"):
        refused("not_your_action", entry, action, MARKET, reopen_reason="x", maintain_reason="x", question="x",
                public_title="x", public_done="y", satisfaction="fair")


def test_staff_can_undo_their_own_reopen():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied")
    undone = act(act(entry, "reopen", reopen_reason="x"), "undo")
    assert (undone["status"], undone["round"], undone["verdict"], undone["dissatisfied"]) == (
        "closed", 1, entry["verdict"], True)


def test_an_entry_with_every_new_field_survives_freezing_and_is_sound():
    entry = citizen(closed(), "verdict", client_id=ID1, round=1, choice="dissatisfied", comment_sealed={"a": "b"})
    entry = act(act(entry, "reopen", reopen_reason="x"), "ask", question="哪天？")
    entry = citizen(entry, "answer", client_id=ID3, question="q1", text="周五")
    stored = freeze(entry)
    assert stored == entry and damage(stored) is None and damage(entry) is None
    assert stored["past_verdicts"][0]["comment_sealed"] == {"a": "b"}
    # A stored (read-only) entry is acted on like a dict.
    assert act(stored, "seen_answer")["citizen_added"] is False


@pytest.mark.parametrize("field, value, reason", [
    ("round", 0, "round is not a round"), ("round", "2", "round is not a round"),
    ("calls", -1, "calls is not a count"), ("dissatisfied", "yes", "dissatisfied is not true or false"),
    ("citizen_added", 1, "citizen_added is not true or false"), ("verdict", {"choice": "great"}, "verdict is not a verdict"),
    ("past_verdicts", [{"choice": "fair"}], "past_verdicts is not a list of verdicts"),
    ("questions", [{"id": 1}], "questions is not a list of questions"), ("maintained", "x", "maintained is not a decision"),
    ("publication", {"title": 1}, "publication is not a publication"),
])
def test_a_damaged_new_field_is_named(field, value, reason):
    assert damage({**closed(), field: value}) == reason
