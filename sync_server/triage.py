"""The office's handling of a submission: its lifecycle, with a history entry for
every change. Pure rules (`apply`): from a stored entry (a read-only mapping, see
`triageentry`) or a plain dict to a new plain dict; `triagebook.TriageBook` keeps them on disk.

已收到 -> 已受理 | 不予受理 -> 已交办 -> 办理中 -> 待审核 -> 已办结 -> 已回访. A
department may send a matter back (已退回) for the office to dispatch again; the office
reviews what a department proposes to close (待审核). A 不满意 verdict (by receipt or
回访) flags the matter; staff then choose 重新办理 (a new round) or 维持原处理, see
`sync_server.verdicts`. Outcome is kept apart from status. A duplicate is merged into
another record: it is closed with outcome "merged" and both texts stay. The rules of the
dispatch actions live in `sync_server.dispatch.rules`; this module keeps the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from sync_server import verdicts
from sync_server.dispatch import rules, undo
from sync_server.triage_terms import (  # noqa: F401 - the lifecycle's words, read from here by every caller
    ACTIONS,
    CALL_OUTCOMES,
    CLOSED,
    CONFIRM,
    DECLINE_REPLY,
    DEPARTMENT_ACTIONS,
    EVENTS,
    FIELDS,
    FIRST_YEAR,
    LAST_YEAR,
    MESSAGES,
    OPEN,
    OUTCOMES,
    SATISFACTION,
    STATUSES,
    SUMMARY_LIMIT,
    TRACKS,
    TriageError,
    check_deadline,
    check_summary,
    choice,
    need,
)

__all__ = ["ACTIONS", "CALL_OUTCOMES", "CONFIRM", "DECLINE_REPLY", "DEPARTMENT_ACTIONS", "EVENTS", "FIRST_YEAR", "LAST_YEAR", "MESSAGES",
           "OUTCOMES", "STATUSES", "SUMMARY_LIMIT", "TRACKS", "TriageError", "allowed_actions", "apply", "check_deadline",
           "check_merge_target", "check_summary", "completed", "damage", "is_overdue", "need", "new_entry"]


def new_entry(received_at: str) -> dict[str, Any]:
    return {
        "status": "received", "updated_at": received_at, "outcome": None, "track": None, "lead": "",
        "responsible": "", "deadline": None, "weekly": False, "public_reply": "", "reason": "", "summary": "",
        "satisfaction_after": None, "merged_into": None, "merged": [], "closed_at": None, "history": [],
        # The dispatch (see the contract in sync_server/dispatch): ids of departments, times as ISO text.
        "department": "", "co_departments": [], "lead_unmapped": False, "dispatched_at": None, "sign_due": None,
        "signed_at": None, "returned_by": "", "extension": None, "proposal": None, "urges": 0, "supervision": None,
        # 群众说了算 (see sync_server.verdicts): the round, the citizen's verdict, questions, publication.
        "round": 1, "verdict": None, "past_verdicts": [], "calls": 0, "dissatisfied": False, "citizen_added": False,
        "questions": [], "maintained": None, "publication": None,
    }


def allowed_actions(entry: Mapping[str, Any], role: str, account: Any = None, now: datetime | None = None,
                    undo_minutes: int = 10) -> list[str]:
    """The actions this role (this account, when given) may take on the entry now, in
    the order the page offers them."""
    return rules.allowed(entry, role, account, now or now_utc(), undo_minutes)


def check_merge_target(target: dict[str, Any]) -> None:
    """A duplicate joins a matter still open: never one closed, declined or itself merged."""
    if target.get("outcome") == "merged":
        raise TriageError("merge_merged")
    if target["status"] in CLOSED:
        raise TriageError("merge_closed")


def apply(entry: Mapping[str, Any], action: str, fields: Mapping[str, Any], by: str, now: datetime, *,  # noqa: C901
          account: Any = None, registry: Any = None) -> dict[str, Any]:
    """The entry after `action`, with its history step; raises TriageError if not allowed.

    `account` (an `Account`; None: staff named `by`) is who acts: a department may act
    only on the matters dispatched to it. `registry` gives the departments and the
    dispatch rules (None: a script's or a test's world, any department id goes)."""
    if action not in ACTIONS:
        raise TriageError("no_action")
    allowed, _label = ACTIONS[action]
    status = entry["status"]
    if status not in allowed:
        raise TriageError("not_allowed")
    actor = rules.Actor.of(account, by)
    refused = rules.may_take(entry, action, actor)
    if refused:
        raise TriageError(refused)
    new = {**new_entry(entry["updated_at"]), **entry, "history": list(entry["history"])}
    note = (fields.get("note") or "").strip()[:2000] if isinstance(fields.get("note"), str) else ""
    extra: dict[str, Any] = {}
    if action == "undo":
        minutes = registry.dispatch.undo_minutes if registry is not None else 10
        refused = undo.can_undo(entry, actor.name, now, minutes)
        if refused:
            raise TriageError(refused)
        index, before, new["status"] = undo.undone_fields(entry)
        new.update(before)
        undone = entry["history"][index]["action"]
        note, extra = note or f"撤回：{ACTIONS.get(undone, (None, undone))[1]}", {"undid": index}
    elif action in rules.DISPATCH_ACTIONS:
        note, extra = rules.take(new, entry, action, fields, actor, registry, now)
    elif action == "accept":
        new["status"] = "accepted"
    elif action == "decline":
        new["status"], new["reason"] = "declined", need(fields, "reason")
        # The citizen reads why, not only the word 不予受理.
        new["public_reply"] = need(fields, "public_reply")
        new["closed_at"] = now.isoformat(timespec="seconds")
        note = note or new["reason"]
    elif action == "start":
        new["status"] = "in_progress"
        # The box can add the meeting flag, never drop it: 撤出周例会 does that, visibly.
        new["weekly"] = bool(entry.get("weekly")) or fields.get("weekly") == "yes"
    elif action in ("flag_weekly", "unflag_weekly"):
        new["weekly"] = action == "flag_weekly"
    elif action == "close":
        new["status"], new["closed_at"] = "closed", now.isoformat(timespec="seconds")
        new["outcome"] = choice(fields, "outcome", {k: v for k, v in OUTCOMES.items() if k != "merged"})
        new["weekly"] = False
    elif action in verdicts.ACTIONS:
        note, extra = verdicts.take(new, entry, action, fields, actor, registry, now)
    elif action == "reply":
        new["public_reply"] = need(fields, "public_reply")
        note = note or new["public_reply"]
    elif action == "merge":
        new.update(status="closed", outcome="merged", merged_into=need(fields, "into"),
                   closed_at=now.isoformat(timespec="seconds"), weekly=False)
    new["updated_at"] = now.isoformat(timespec="seconds")
    step = {"at": new["updated_at"], "by": actor.name, "by_display": actor.display, "action": action, "from": status,
            "to": new["status"], "note": note, **extra}
    if action != "undo":
        # What the step changed, so that 撤回 can put it back (see dispatch.undo). Kept
        # even when empty: a step that changed only the status (受理, 开始办理) or only
        # added itself (办理进展) is taken back by its `from` status alone.
        step["before"] = _changed(entry, new)
    history = new["history"]
    if history and "before" in history[-1]:
        # Only a matter's last step can be taken back: the one before it keeps of its
        # `before` (kept whole in every step, it tripled an entry's memory) only who held
        # the matter and by when, which the departments' figures read at every step.
        last = {k: v for k, v in history[-1].items() if k != "before"}
        held = {k: v for k, v in history[-1]["before"].items() if k in _HELD}
        history[-1] = {**last, "before": held} if held else last
    history.append(step)
    return new


_NOT_KEPT = frozenset({"history", "updated_at", "status"})
_HELD = frozenset({"department", "deadline", "sign_due"})  # see `department_figures._states`


def _changed(entry: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in new.items():
        if key in _NOT_KEPT:
            continue
        old = entry.get(key, _DEFAULTS.get(key))
        if old is value or (type(old) is type(value) and old == value):
            continue  # most fields: the same object, or equal plain values
        old = undo.plain(old)
        if old != undo.plain(value):
            changed[key] = old
    return changed


def is_overdue(entry: dict[str, Any], today: date) -> bool:
    return (
        entry["status"] in ("assigned", "in_progress")
        and entry["deadline"] is not None
        and date.fromisoformat(entry["deadline"]) < today
    )


# Text fields the office computes on or shows (lists, filters, reports): text or nothing.
_TEXT_FIELDS = ("lead", "responsible", "public_reply", "reason", "summary", "outcome", "track",
                "satisfaction_after", "merged_into", "closed_at", "department", "returned_by", "dispatched_at",
                "sign_due", "signed_at", "supervision")


def damage(entry: Any) -> str | None:
    """Why a stored entry cannot be used (a hand edit, a flipped bit, a line from another
    version), or None. A field may be missing (an older version wrote fewer), never of
    the wrong type: one such entry must not stop the office's index for every record."""
    if not isinstance(entry, Mapping):
        return "not an object"
    if entry.get("status") not in STATUSES:
        return "no known status"
    if not isinstance(entry.get("updated_at"), str):
        return "no change time"
    for name in _TEXT_FIELDS:
        if not isinstance(entry.get(name), (str, type(None))):
            return f"{name} is not text"
    deadline = entry.get("deadline")
    if deadline is not None:
        try:
            date.fromisoformat(deadline)
        except (TypeError, ValueError):
            return "deadline is not a date"
    if not isinstance(entry.get("weekly"), (bool, int, type(None))):  # an older version wrote 0 and 1
        return "weekly is not true or false"
    merged = entry.get("merged", [])
    if not isinstance(merged, (list, tuple)) or not all(isinstance(m, str) for m in merged):
        return "merged is not a list of ids"
    history = entry.get("history", [])
    if not isinstance(history, (list, tuple)) or not all(isinstance(h, Mapping) for h in history):
        return "history is not a list of steps"
    return _dispatch_damage(entry) or verdicts.damage(entry)


def _dispatch_damage(entry: Mapping[str, Any]) -> str | None:
    co = entry.get("co_departments", [])
    if not isinstance(co, (list, tuple)) or not all(isinstance(d, str) for d in co):
        return "co_departments is not a list of ids"
    if not isinstance(entry.get("lead_unmapped", False), bool):
        return "lead_unmapped is not true or false"
    urges = entry.get("urges", 0)
    if not isinstance(urges, int) or isinstance(urges, bool) or urges < 0:
        return "urges is not a count"
    extension, proposal = entry.get("extension"), entry.get("proposal")
    if extension is not None and not (isinstance(extension, Mapping) and isinstance(extension.get("deadline"), str)):
        return "extension is not a request"
    if extension is not None:
        try:
            date.fromisoformat(extension["deadline"])
        except ValueError:
            return "extension is not a request"
    if proposal is not None and not (isinstance(proposal, Mapping) and proposal.get("outcome") in OUTCOMES
                                     and isinstance(proposal.get("public_reply"), str)
                                     and isinstance(proposal.get("result"), str)):
        return "proposal is not a proposal"
    return None


_FIELDS = frozenset(new_entry("").keys())
_DEFAULTS = new_entry("")


def completed(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A sound stored entry (see `damage`) with the fields an older version did not write
    at their defaults, after its own: the office reads every field of an entry."""
    if _FIELDS <= entry.keys():
        return entry
    return {**entry, **{k: v for k, v in new_entry(entry["updated_at"]).items() if k not in entry}}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
