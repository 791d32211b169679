"""What the record page shows of 群众说了算 (issue 22): every verdict of every round
with its source (凭回执 or 电话回访) and every change, the 回访 calls (未接通 included),
the office's 重新办理 and 维持原处理, and the questions with their answers. Pure: from a
triage entry to plain rows; the citizen's words come through `open_words`, which opens
what is sealed for this session (or says why not), so nothing here touches a key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_server.triage_terms import CALL_OUTCOMES

__all__ = ["SOURCES", "Question", "Round", "Step", "questions", "rounds"]

SOURCES = {"receipt": "凭回执", "phone": "电话回访"}
# open_words(sealed envelope or None, plain text) -> the words to show.
Opener = Callable[[Any, str], str]


@dataclass
class Step:
    at: str
    kind: str  # 群众评价, 修改评价, 电话回访, 重新办理, 维持原处理
    source: str  # 凭回执, 电话回访, or "" for the office's own decision
    choice: str  # 满意 … 未接通, or ""
    words: str  # the citizen's comment (opened), or the office's reason


@dataclass
class Round:
    number: int
    steps: list[Step] = field(default_factory=list)
    calls: int = 0  # 回访 attempts this round, 未接通 included


@dataclass
class Question:
    id: str
    asked_at: str
    text: str
    answered_at: str | None
    answer: str | None


def rounds(entry: Mapping[str, Any], open_words: Opener) -> list[Round]:
    """Every round of the matter, oldest first, with what happened in it. A round with
    nothing to show is kept only when it is the current one."""
    number = 1
    found = [Round(1)]
    judged: set[int] = set()  # rounds the citizen has already judged by receipt
    for step in entry.get("history") or ():
        action = step.get("action")
        if action == "verdict":
            choice = CALL_OUTCOMES.get(step.get("choice") or "", "")
            kind = "修改评价" if number in judged else "群众评价"
            judged.add(number)
            words = open_words(step.get("comment_sealed"), step.get("comment") or "")
            found[-1].steps.append(Step(step["at"], kind, SOURCES["receipt"], choice, words))
        elif action == "follow_up":
            # An older version's 回访 step names no choice: its note said it.
            choice = CALL_OUTCOMES.get(step.get("choice") or "", step.get("note") or "")
            found[-1].calls += 1
            found[-1].steps.append(Step(step["at"], "电话回访", SOURCES["phone"], choice, ""))
        elif action == "reopen":
            found[-1].steps.append(Step(step["at"], "重新办理", "", "", step.get("note") or ""))
            number += 1
            found.append(Round(number))
        elif action == "maintain":
            found[-1].steps.append(Step(step["at"], "维持原处理", "", "", step.get("note") or ""))
    current = int(entry.get("round") or number)
    return [r for r in found if r.steps or r.number == current]


def questions(entry: Mapping[str, Any], open_words: Opener) -> list[Question]:
    """The office's questions, oldest first, each with the citizen's answer (opened)."""
    shown = []
    for question in entry.get("questions") or ():
        answer = question.get("answer")
        words = open_words(answer.get("sealed"), answer.get("text") or "") if answer else None
        shown.append(Question(question.get("id", ""), question.get("asked_at", ""), question.get("text", ""),
                              answer.get("at") if answer else None, words))
    return shown
