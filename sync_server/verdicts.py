"""群众说了算: the citizen's verdict on a closed matter, the talk by receipt (a staff
question, the citizen's answer), 回访 by phone, 重新办理 / 维持原处理 after a 不满意, and
the public 你说我办 item (公开 / 撤回公开). `triage.apply` calls `take` for these actions
and writes the step; who may take each is `dispatch.rules.may_take`'s.

A citizen's step carries the browser's own id (`client_id`): the same step arriving
twice (an outbox retried after a lost answer) is refused as `duplicate`, which the
receipt API answers as success, so it is counted once. The words a citizen writes
reach here sealed (`comment_sealed`, an answer's `sealed`) where the sector has a key;
the plain text is kept only where it has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from minqing.departments import DispatchRules
from sync_server.dispatch.deadlines import add_working_days, default_deadline, local_day
from sync_server.triage_terms import (
    CALL_OUTCOMES,
    CLOSED,
    SATISFACTION,
    TRACKS,
    VERDICT_DAYS,
    TriageError,
    check_deadline,
    need,
)

__all__ = ["ACTIONS", "COMMENT_LIMIT", "damage", "is_duplicate", "latest_question", "take", "verdict_open",
           "verdict_until"]

ACTIONS = frozenset({"verdict", "answer", "ask", "seen_answer", "reopen", "maintain", "follow_up", "publish",
                     "unpublish"})
COMMENT_LIMIT = 2000  # a comment or an answer: as long as a submission's words
SOURCES = ("receipt", "phone")


def is_duplicate(entry: Mapping[str, Any], client_id: Any) -> bool:
    """True when a citizen's step with this browser id is already in the history."""
    return bool(client_id) and any(step.get("client_id") == client_id for step in entry.get("history") or ())


def verdict_until(verdict: Mapping[str, Any]) -> date:
    """The last day (in the district) a verdict of this round may still be changed."""
    return local_day(datetime.fromisoformat(verdict["first_at"])) + timedelta(days=VERDICT_DAYS)


def _verdict_refusal(entry: Mapping[str, Any], now: datetime) -> str | None:
    if entry.get("outcome") == "merged":
        return "merged_citizen"
    if entry["status"] not in CLOSED:
        return "still_open"
    if entry["status"] == "declined" and not entry.get("public_reply"):
        return "no_reply_yet"
    verdict = entry.get("verdict")
    if verdict and verdict.get("round") == entry.get("round", 1) and local_day(now) > verdict_until(verdict):
        return "too_late"
    return None


def verdict_open(entry: Mapping[str, Any], now: datetime) -> bool:
    """Whether the citizen may give (or change) the current round's verdict now."""
    return _verdict_refusal(entry, now) is None and _changes(entry, entry.get("round", 1)) < VERDICT_CHANGES


def latest_question(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The latest question still waiting for the citizen's answer, or None."""
    for question in reversed(entry.get("questions") or ()):
        if question.get("answer") is None:
            return question
    return None


def _round_of(fields: Mapping[str, Any]) -> int | None:
    value = fields.get("round")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 6:
        return int(value.strip())
    return None


def _words(fields: Mapping[str, Any], name: str, sealed_name: str) -> tuple[str, Any]:
    """(plain text, sealed envelope) of a citizen's words: one of them, or neither."""
    sealed = fields.get(sealed_name)
    if isinstance(sealed, Mapping):
        return "", dict(sealed)
    text = fields.get(name)
    text = text.strip() if isinstance(text, str) else ""
    if len(text) > COMMENT_LIMIT:
        raise TriageError(f"too_long_{name}")
    return text, None


def _client_id(fields: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    client_id = fields.get("client_id")
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise TriageError("missing_client_id")
    if is_duplicate(entry, client_id):
        raise TriageError("duplicate")
    return client_id


# A verdict may be changed this many times in its round (within its 15 days): a code
# holder must not be able to fill the matter's history.
VERDICT_CHANGES = 5


def _changes(entry: Mapping[str, Any], round_: int) -> int:
    given = sum(1 for step in entry.get("history") or () if step.get("action") == "verdict" and step.get("round") == round_)
    return max(0, given - 1)


def _set_verdict(new: dict, entry: Mapping[str, Any], choice: str, source: str, at: str,
                 comment: str = "", sealed: Any = None) -> None:
    current = entry.get("verdict")
    same_round = current is not None and current.get("round") == new["round"]
    new["verdict"] = {"choice": choice, "source": source, "round": new["round"], "at": at,
                      "first_at": current["first_at"] if same_round else at, "comment": comment,
                      "comment_sealed": sealed}
    if source == "receipt":
        # The citizen's own change of mind: the flag follows their current verdict.
        new["dissatisfied"] = choice == "dissatisfied"
    else:
        # A call may raise the flag, never lower it: a 不满意 goes only by a recorded
        # decision of staff, 重新办理 or 维持原处理, each with its reason.
        new["dissatisfied"] = bool(entry.get("dissatisfied")) or choice == "dissatisfied"


def take(new: dict, entry: Mapping[str, Any], action: str, fields: Mapping[str, Any], actor: Any,  # noqa: C901
         registry: Any, now: datetime) -> tuple[str, dict]:  # one branch per action, read as a table
    """Apply one of ACTIONS to `new` (a copy of `entry`); the step's note and extras."""
    at = now.isoformat(timespec="seconds")
    note = (fields.get("note") or "").strip()[:2000] if isinstance(fields.get("note"), str) else ""
    extra: dict[str, Any] = {}
    round_ = entry.get("round", 1)
    if action in ("verdict", "answer") and is_duplicate(entry, fields.get("client_id")):
        # Before any other refusal: a retry of a step already counted is not an error,
        # even once the matter has moved on (reopened, or past the 15 days).
        raise TriageError("duplicate")
    if action == "verdict":
        given = _round_of(fields)
        # An older round's verdict (queued offline before a 重新办理) says so, open or not.
        refused = "old_round" if given is not None and given < round_ else _verdict_refusal(entry, now)
        if refused:
            raise TriageError(refused)
        client_id = _client_id(fields, entry)
        if given != round_:
            # A round not begun (a hand-made request): never "已重新办理", which it was not.
            raise TriageError("not_yet_round" if given is not None and given > round_ else "old_round")
        if _changes(entry, round_) >= VERDICT_CHANGES:
            raise TriageError("too_many_changes")
        choice = fields.get("choice")
        if not isinstance(choice, str) or choice not in SATISFACTION:
            raise TriageError("bad_choice")
        comment, sealed = _words(fields, "comment", "comment_sealed")
        _set_verdict(new, entry, choice, "receipt", at, comment, sealed)
        # The history keeps every change, with its words (sealed where keys exist).
        extra = {"client_id": client_id, "choice": choice, "round": round_, "comment": comment,
                 "comment_sealed": sealed}
        note = SATISFACTION[choice] + ("（附留言）" if comment or sealed else "")
    elif action == "answer":
        if entry.get("outcome") == "merged":
            raise TriageError("merged_citizen")
        client_id = _client_id(fields, entry)
        wanted = fields.get("question")
        questions = [dict(q) for q in entry.get("questions") or ()]
        found = next((q for q in questions if isinstance(wanted, str) and q.get("id") == wanted), None)
        if found is None:
            raise TriageError("no_question")
        if found.get("answer") is not None:
            raise TriageError("answered")
        text, sealed = _words(fields, "text", "sealed")
        if not text and sealed is None:
            raise TriageError("missing_text")
        found["answer"] = {"at": at, "text": text or None, "sealed": sealed}
        new.update(questions=questions, citizen_added=True)
        extra = {"client_id": client_id, "question": found["id"], "text": text or None, "sealed": sealed}
        note = "群众补充了情况"
    elif action == "ask":
        if entry.get("outcome") == "merged":
            raise TriageError("merged_no_ask")
        text = need(fields, "question")
        questions = [*(entry.get("questions") or ())]
        question = {"id": f"q{len(questions) + 1}", "asked_at": at, "text": text, "answer": None}
        new.update(questions=[*questions, question], citizen_added=False)
        extra, note = {"question": question["id"]}, note or f"需要您补充：{text}"
    elif action == "seen_answer":
        if not entry.get("citizen_added"):
            raise TriageError("no_answer_to_see")
        new["citizen_added"] = False
    elif action == "reopen":
        if entry.get("outcome") == "merged":
            raise TriageError("not_allowed")
        reason = need(fields, "reopen_reason")
        _reopen(new, entry, fields, registry, now)
        extra, note = {"round": new["round"]}, reason
    elif action == "maintain":
        if not entry.get("dissatisfied"):
            raise TriageError("not_dissatisfied")
        reason = need(fields, "maintain_reason")
        new.update(maintained={"reason": reason, "at": at, "round": round_}, dissatisfied=False)
        note = reason
    elif action == "follow_up":
        if entry.get("outcome") == "merged":
            raise TriageError("merged_no_follow_up")
        if fields.get("phone_on_record") == "no":
            # 回访 by phone is for citizens who consented to leave one (the office's
            # path says whether the stored record still holds it; see `office.acting`).
            raise TriageError("no_phone_to_call")
        outcome = fields.get("satisfaction") or ""
        if not isinstance(outcome, str) or outcome not in CALL_OUTCOMES:
            raise TriageError("choose_satisfaction")
        new["calls"] = int(entry.get("calls") or 0) + 1
        extra = {"choice": outcome, "round": round_}
        if outcome != "no_answer":
            new["satisfaction_after"] = outcome
            _set_verdict(new, entry, outcome, "phone", at)
            if outcome != "dissatisfied" and entry["status"] == "closed":
                new["status"] = "followed_up"
        note = note or CALL_OUTCOMES[outcome]
    elif action == "publish":
        if entry.get("outcome") == "merged":
            raise TriageError("merged_no_publish")
        title, done = need(fields, "public_title"), need(fields, "public_done")
        closed = entry.get("closed_at") or at
        new["publication"] = {"title": title, "done": done,
                              "month": local_day(datetime.fromisoformat(closed)).strftime("%Y-%m"),
                              "published_at": at, "station_id": str(fields.get("station_id") or ""),
                              "sector": str(fields.get("sector") or "")}
        note = note or title
    elif action == "unpublish":
        if not entry.get("publication"):
            raise TriageError("not_published")
        new["publication"] = None
    return note, extra


def _reopen(new: dict, entry: Mapping[str, Any], fields: Mapping[str, Any], registry: Any, now: datetime) -> None:
    """A new round: the verdict kept in `past_verdicts`, the matter back to its department
    (a new 签收 and deadline) when it had one, else to 已受理 for the office to dispatch."""
    rules = registry.dispatch if registry is not None else DispatchRules()
    verdict = entry.get("verdict")
    new.update(round=int(entry.get("round", 1)) + 1, verdict=None, dissatisfied=False, closed_at=None,
               outcome=None, publication=None, proposal=None, extension=None,
               past_verdicts=[*(entry.get("past_verdicts") or ()), *([verdict] if verdict else [])])
    given = fields.get("deadline")
    given = given.strip() if isinstance(given, str) else ""
    deadline = check_deadline(given) if given else None
    today = local_day(now)
    if deadline and date.fromisoformat(deadline) < today:
        raise TriageError("deadline_past")
    if entry.get("department"):
        track = entry.get("track") if entry.get("track") in TRACKS else "immediate"
        new.update(status="assigned", signed_at=None, returned_by="", dispatched_at=now.isoformat(timespec="seconds"),
                   sign_due=add_working_days(now, rules.sign_within_working_days).isoformat(timespec="seconds"),
                   deadline=deadline or default_deadline(today, track, rules).isoformat())
    else:
        new["status"] = "accepted"
        if deadline:
            new["deadline"] = deadline


def _verdict_damage(verdict: Any) -> bool:
    return not (isinstance(verdict, Mapping) and verdict.get("choice") in SATISFACTION
                and verdict.get("source") in SOURCES and isinstance(verdict.get("round"), int)
                and isinstance(verdict.get("at"), str) and isinstance(verdict.get("first_at"), str)
                and isinstance(verdict.get("comment", ""), str)
                and isinstance(verdict.get("comment_sealed"), (Mapping, type(None))))


def _count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def damage(entry: Mapping[str, Any]) -> str | None:  # noqa: C901 - one check a field
    """Why the entry's 群众说了算 fields cannot be used, or None (see `triage.damage`)."""
    if not _count(entry.get("round", 1), 1):
        return "round is not a round"
    if not _count(entry.get("calls", 0), 0):
        return "calls is not a count"
    for flag in ("dissatisfied", "citizen_added"):
        if not isinstance(entry.get(flag, False), bool):
            return f"{flag} is not true or false"
    verdict = entry.get("verdict")
    if verdict is not None and _verdict_damage(verdict):
        return "verdict is not a verdict"
    past = entry.get("past_verdicts", [])
    if not isinstance(past, (list, tuple)) or any(_verdict_damage(v) for v in past):
        return "past_verdicts is not a list of verdicts"
    questions = entry.get("questions", [])
    if not isinstance(questions, (list, tuple)) or not all(
            isinstance(q, Mapping) and isinstance(q.get("id"), str) and isinstance(q.get("text"), str)
            and isinstance(q.get("answer"), (Mapping, type(None))) for q in questions):
        return "questions is not a list of questions"
    maintained = entry.get("maintained")
    if maintained is not None and not (isinstance(maintained, Mapping) and isinstance(maintained.get("reason"), str)):
        return "maintained is not a decision"
    publication = entry.get("publication")
    if publication is not None and not (isinstance(publication, Mapping) and all(
            isinstance(publication.get(k), str) for k in ("title", "done", "month", "published_at"))):
        return "publication is not a publication"
    return None
