"""A letter is sent, answered or overdue (unanswered past its answer date); withdrawn apart."""

from __future__ import annotations

from datetime import date

from sync_server.letters.tracking import answer_due, state


def _letter(**fields):
    return {"sent_on": "2026-12-01", "answer_due": "2026-12-16", "answer": None, "voided": False, **fields}


def test_the_answer_date_is_answer_days_after_sending():
    assert answer_due(date(2026, 12, 1), 15) == date(2026, 12, 16)


def test_an_unanswered_letter_is_sent_until_its_answer_date_and_overdue_the_day_after():
    assert state(_letter(), date(2026, 12, 16)) == "sent"
    assert state(_letter(), date(2026, 12, 17)) == "overdue"


def test_an_answered_letter_is_never_overdue():
    assert state(_letter(answer={"text": "已整改", "on": "2026-12-20"}), date(2027, 1, 30)) == "answered"


def test_a_withdrawn_letter_is_neither_sent_nor_overdue():
    assert state(_letter(voided=True), date(2027, 1, 30)) == "voided"


def test_a_supervision_sheet_is_answered_when_its_matter_is_closed():
    sheet = _letter(kind="supervision")
    assert state(sheet, date(2027, 1, 30), closed=True) == "answered"
    assert state(sheet, date(2027, 1, 30)) == "overdue"
    assert state(_letter(kind="letter"), date(2027, 1, 30), closed=True) == "overdue"  # a letter waits for its written answer
