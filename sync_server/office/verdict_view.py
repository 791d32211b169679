"""The record page's 群众说了算 context for one session: the verdict history and the
questions (`verdict_history`) with the citizen's words opened by this session's keys
where sealed, or a sentence saying why not; and the words the forms need."""

from __future__ import annotations

from typing import Any

from sync_server.office.sealed import LOCKED, NOT_YOURS
from sync_server.office.verdict_history import SOURCES, questions, rounds
from sync_server.sealing.citizen_words import open_citizen_words
from sync_server.sealing.envelope import SealError
from sync_server.triage_terms import CALL_OUTCOMES
from sync_server.verdicts import verdict_until
from sync_server.words import visible

__all__ = ["verdict_context"]


def _opener(state, account, unlocked, record: dict[str, Any]):
    """open_words(sealed, plain) for this session and record: the words, or why not."""
    stations = {s.id: s.sector for s in state.stations.registry.stations}

    def open_words(sealed, plain: str) -> str:
        try:
            # Held to the words' rules like a record's words: a control character (a
            # hand-edited log, any client that seals) shows as an escape, never raw.
            return visible(open_citizen_words(account, unlocked, record, sealed, stations.get, plain))
        except SealError as error:
            return LOCKED if error.code == "locked" else NOT_YOURS if error.code == "not_your_sector" else error.message
    return open_words


def verdict_context(state, account, unlocked, row) -> dict[str, Any]:
    open_words = _opener(state, account, unlocked, row.record)
    verdict = row.triage.get("verdict")
    until = None
    if verdict and verdict.get("source") == "receipt" and verdict.get("first_at"):
        try:
            until = verdict_until(verdict).isoformat()
        except (TypeError, ValueError):
            until = None
    return {"verdict_rounds": rounds(row.triage, open_words), "questions": questions(row.triage, open_words),
            "call_outcomes": CALL_OUTCOMES, "sources": SOURCES, "verdict_until": until}
