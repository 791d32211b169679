"""The record page's 群众说了算 history, built from a matter's own steps: every verdict
of every round with its source and every change, 回访 calls with 未接通 counted,
重新办理 starting a new round, and questions with their answers; sealed words go
through the opener, plain ones are shown as stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sync_server.dispatch.rules import CITIZEN
from sync_server.office.verdict_history import questions, rounds
from sync_server.triage import apply, new_entry

T0 = datetime(2026, 11, 20, 2, tzinfo=timezone.utc)
SEALED = {"kid": "k1", "ct": "..."}


def _opener(sealed, plain):
    return "〔已解密〕" if sealed is not None else plain


def _closed():
    entry = apply(new_entry(T0.isoformat()), "accept", {}, "amy", T0)
    return {**entry, "status": "closed", "closed_at": T0.isoformat(), "outcome": "resolved",
            "public_reply": "已修好路灯。"}


def _as_citizen(entry, action, fields, at):
    return apply(entry, action, fields, "citizen", at, account=CITIZEN)


def test_a_verdict_changed_then_a_reopen_and_a_new_round_each_show_with_source_and_words():
    entry = _closed()
    entry = _as_citizen(entry, "verdict", {"choice": "dissatisfied", "round": "1", "client_id": "c-aaaaaaaa",
                                           "comment": "路灯还是不亮"}, T0 + timedelta(hours=1))
    entry = _as_citizen(entry, "verdict", {"choice": "fair", "round": "1", "client_id": "c-bbbbbbbb",
                                           "comment_sealed": SEALED}, T0 + timedelta(hours=2))
    entry = apply(entry, "follow_up", {"satisfaction": "no_answer"}, "amy", T0 + timedelta(hours=3))
    entry = apply(entry, "follow_up", {"satisfaction": "dissatisfied"}, "amy", T0 + timedelta(hours=4))
    entry = apply(entry, "reopen", {"reopen_reason": "群众反映仍未解决"}, "amy", T0 + timedelta(hours=5))
    shown = rounds(entry, _opener)
    assert [r.number for r in shown] == [1, 2]
    first = shown[0]
    assert [(s.kind, s.source, s.choice, s.words) for s in first.steps] == [
        ("群众评价", "凭回执", "不满意", "路灯还是不亮"),
        ("修改评价", "凭回执", "基本满意", "〔已解密〕"),
        ("电话回访", "电话回访", "未接通", ""),
        ("电话回访", "电话回访", "不满意", ""),
        ("重新办理", "", "", "群众反映仍未解决"),
    ]
    assert first.calls == 2
    assert shown[1].steps == [] and shown[1].calls == 0  # the current round, nothing yet


def test_a_maintained_decision_shows_its_public_reason():
    entry = apply(_closed(), "follow_up", {"satisfaction": "dissatisfied"}, "amy", T0)
    entry = apply(entry, "maintain", {"maintain_reason": "已按规定处理，路灯属供电公司"}, "amy", T0 + timedelta(hours=1))
    [only] = rounds(entry, _opener)
    assert (only.steps[-1].kind, only.steps[-1].words) == ("维持原处理", "已按规定处理，路灯属供电公司")


def test_a_matter_never_judged_shows_its_one_empty_round():
    [only] = rounds(_closed(), _opener)
    assert only.number == 1 and only.steps == []


def test_questions_show_with_answers_opened_and_an_open_question_unanswered():
    entry = apply(_closed(), "ask", {"question": "请问是哪一盏路灯？"}, "amy", T0)
    entry = _as_citizen(entry, "answer", {"question": "q1", "client_id": "c-cccccccc", "sealed": SEALED},
                        T0 + timedelta(hours=1))
    entry = apply(entry, "ask", {"question": "晚上几点最明显？"}, "amy", T0 + timedelta(hours=2))
    shown = questions(entry, _opener)
    assert [(q.text, q.answer) for q in shown] == [("请问是哪一盏路灯？", "〔已解密〕"), ("晚上几点最明显？", None)]
    assert shown[0].answered_at and shown[1].answered_at is None
