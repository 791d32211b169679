"""Where a letter stands: sent, answered, overdue (unanswered past its answer date), withdrawn."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

__all__ = ["STATES", "answer_due", "state"]

STATES = {"sent": "已发出", "answered": "已答复", "overdue": "超期未复", "voided": "已作废"}


def answer_due(sent_on: date, answer_days: int) -> date:
    """The day by which the department answers: fixed at sending, so a later change of the
    registry's `answer_days` does not move the letters already sent."""
    return sent_on + timedelta(days=answer_days)


def state(letter: dict[str, Any], today: date, closed: bool = False) -> str:
    """A key of STATES. Overdue from the day after the answer date, until answered.
    `closed`: every matter of the letter is closed; a 督办单 is answered by its matter's
    result, so its closing (审核办结, 办结) answers it without a typed answer."""
    if letter.get("voided"):
        return "voided"
    if letter.get("answer") or (closed and letter.get("kind") == "supervision"):
        return "answered"
    due = letter.get("answer_due")
    if due and today > date.fromisoformat(due):
        return "overdue"
    return "sent"
