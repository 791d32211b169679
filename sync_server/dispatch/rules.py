"""The rules of a dispatched matter: who may take which action on it, and what each
dispatch action does to the entry (交办, 改派, 签收, 退回, 延期, 进展, 提交办结, 审核,
重办, 催办, 督办). `triage.apply` calls `take` for these actions and writes the step.

A department account takes actions only on the matters dispatched to it: as lead unit
(承办) all of DEPARTMENT_ACTIONS, as 协办 only progress notes. Staff take the office's
side; the department's own steps (签收, 退回, 申请延期, 提交办结) are the department's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from minqing.departments import DispatchRules
from sync_server.dispatch.deadlines import add_working_days, default_deadline, local_day
from sync_server.dispatch.undo import can_undo
from sync_server.dispatch.visibility import dispatched_to
from sync_server.triage_terms import (
    ACTIONS,
    CITIZEN_ACTIONS,
    DEPARTMENT_ACTIONS,
    OUTCOMES,
    TRACKS,
    TriageError,
    check_deadline,
    check_summary,
    need,
)

__all__ = ["CITIZEN", "DISPATCH_ACTIONS", "Actor", "allowed", "may_take", "take"]

DISPATCH_ACTIONS = frozenset({"assign", "reassign", "sign", "send_back", "ask_extension", "grant_extension",
                              "refuse_extension", "progress", "submit", "approve", "redo", "urge", "supervise"})
# The department's own steps: staff do not take them in its name.
_DEPARTMENT_ONLY = frozenset({"sign", "send_back", "ask_extension", "submit"})
# Offered to nobody (none yet: staff may still 开始办理 for a department that does not
# use its account; departments 签收 instead).
_NOT_OFFERED: frozenset[str] = frozenset()
# Offered only on a matter that has what they act on, and never on a merged one.
_ONLY_WHEN = {"seen_answer": "citizen_added", "maintain": "dissatisfied", "unpublish": "publication"}
_MERGED_NOT = frozenset({"follow_up", "ask", "publish", "reopen", "maintain"})


@dataclass(frozen=True)
class Actor:
    """Who takes an action: the account's name, its display name at the time (kept in
    the step: a renamed account must not rename history), role and department id."""

    name: str
    display: str
    role: str = "staff"
    department: str = ""

    @classmethod
    def of(cls, account: Any, by: str) -> Actor:
        if account is None:
            return cls(by, by)
        return cls(account.name, getattr(account, "display", "") or account.name, account.role,
                   getattr(account, "department", "") or "")


# The citizen, by receipt: the one actor of the receipt API (`intake.verdict_api`). The
# history names nobody more precisely: the office learns nothing of who holds the code.
CITIZEN = Actor("citizen", "群众", "citizen")


def may_take(entry: Mapping[str, Any], action: str, actor: Actor) -> str | None:
    """None when the actor may take the action on this matter, else a MESSAGES code."""
    if actor.role == "citizen":
        return None if action in CITIZEN_ACTIONS else "not_your_action"
    if action in CITIZEN_ACTIONS:
        return "not_your_action"  # staff record a verdict only by 回访 (source phone)
    if actor.role == "staff":
        return "not_your_action" if action in _DEPARTMENT_ONLY else None
    if actor.role != "department" or action not in DEPARTMENT_ACTIONS:
        return "not_your_action"
    if action == "undo":
        return None  # any of its own steps: `undo.can_undo` says which
    if action == "progress":
        return None if dispatched_to(actor.department, entry) else "not_your_matter"
    return None if actor.department and entry.get("department") == actor.department else "not_your_matter"


def allowed(entry: Mapping[str, Any], role: str, account: Any, now: datetime, undo_minutes: int) -> list[str]:
    status = entry["status"]
    if account is None:  # a role alone: as if its department were the matter's lead unit
        actor = Actor("", "", role, entry.get("department", "") if role == "department" else "")
    else:
        actor = Actor.of(account, account.name)
    offered = []
    for action, (starts, _label) in ACTIONS.items():
        if status not in starts or action in _NOT_OFFERED or may_take(entry, action, actor) is not None:
            continue
        if action in _MERGED_NOT and entry.get("outcome") == "merged":
            continue
        if action in _ONLY_WHEN and not entry.get(_ONLY_WHEN[action]):
            continue
        if action in ("grant_extension", "refuse_extension") and not entry.get("extension"):
            continue
        if action == "undo" and can_undo(entry, actor.name, now, undo_minutes) is not None:
            continue
        offered.append(action)
    return offered


def _text(fields: Mapping[str, Any], code: str, *names: str) -> str:
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            if len(value.strip()) > 2000:
                raise TriageError(f"too_long_{code}")
            return value.strip()
    raise TriageError(f"missing_{code}")


def _department(fields: Mapping[str, Any], registry: Any) -> tuple[str, str]:
    """(id, name) of the department the form names: by id, or (an older form) by the
    name typed as 牵头部门. Without a registry (a script, a unit test) the id is taken as is."""
    wanted = fields.get("department")
    wanted = wanted.strip() if isinstance(wanted, str) else ""
    if registry is None:
        if wanted:
            return wanted, wanted
        return "", need(fields, "lead")
    if wanted:
        found = registry.department(wanted)
    else:
        lead = fields.get("lead")
        if not isinstance(lead, str) or not lead.strip():
            raise TriageError("choose_department")
        found = registry.department_named(lead.strip())
    if found is None:
        raise TriageError("unknown_department")
    return found.id, found.name


def _co_departments(fields: Mapping[str, Any], lead: str, registry: Any, current: Any) -> list[str]:
    given = fields.get("co_departments")
    if given is None:
        return [d for d in (current or ()) if d != lead]
    items = given.split(",") if isinstance(given, str) else list(given)
    ids = list(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    for department in ids:
        if registry is not None and registry.department(department) is None:
            raise TriageError("unknown_department")
        if department == lead:
            raise TriageError("co_is_lead")
    return ids


def _hand_over(new: dict, department: str, name: str, rules: DispatchRules, now: datetime) -> None:
    at = now.isoformat(timespec="seconds")
    new.update(department=department, lead=name, dispatched_at=at, signed_at=None, returned_by="",
               sign_due=add_working_days(now, rules.sign_within_working_days).isoformat(timespec="seconds"),
               extension=None, proposal=None, lead_unmapped=False)


def _deadline(fields: Mapping[str, Any], entry: Mapping[str, Any], track: str, rules: DispatchRules,
              now: datetime) -> str:
    """A 交办's or 改派's deadline: the form's, never before today (a department must not
    receive a matter overdue on arrival); else the matter's own while not yet past; else
    the track's default from today (an overdue matter 改派 starts afresh)."""
    today = local_day(now)
    given = fields.get("deadline")
    given = given.strip() if isinstance(given, str) else ""
    if given:
        deadline = check_deadline(given)
        if date.fromisoformat(deadline) < today:
            raise TriageError("deadline_past")
        return deadline
    kept = entry.get("deadline")
    if kept and date.fromisoformat(kept) >= today:
        return kept
    return default_deadline(today, track, rules).isoformat()


def take(new: dict, entry: Mapping[str, Any], action: str, fields: Mapping[str, Any], actor: Actor,  # noqa: C901
         registry: Any, now: datetime) -> tuple[str, dict]:  # one branch per dispatch action, read as a table
    """Apply a dispatch action to `new` (a copy of `entry`); the step's note and extras."""
    rules = registry.dispatch if registry is not None else DispatchRules()
    at = now.isoformat(timespec="seconds")
    note = (fields.get("note") or "").strip()[:2000] if isinstance(fields.get("note"), str) else ""
    extra: dict[str, Any] = {}
    if action in ("assign", "reassign"):
        department, name = _department(fields, registry)
        if action == "reassign":
            if department == entry.get("department"):
                raise TriageError("same_department")
            note = _text(fields, "reassign_reason", "reason", "note")
            extra["from_department"] = entry.get("department", "")
        track = fields.get("track") or entry.get("track") or ""
        if track not in TRACKS:
            raise TriageError("choose_track")
        deadline = _deadline(fields, entry, track, rules, now)
        summary = check_summary((fields.get("summary") or "").strip() or entry.get("summary") or "")
        new.update(status="assigned", track=track, deadline=deadline, summary=summary,
                   co_departments=_co_departments(fields, department, registry, entry.get("co_departments")))
        if "responsible" in fields or action == "assign":
            new["responsible"] = (fields.get("responsible") or "").strip()[:500]
        _hand_over(new, department, name, rules, now)
        extra["department"] = department
        note = note or f"{name}牵头，{TRACKS[track]}，期限 {deadline}"
    elif action == "sign":
        new.update(status="in_progress", signed_at=at)
    elif action == "send_back":
        note = _text(fields, "return_reason", "reason", "note")
        extra["department"] = entry.get("department", "")
        new.update(status="returned", returned_by=entry.get("department", ""), department="", co_departments=[],
                   extension=None, proposal=None)
    elif action == "ask_extension":
        wanted = check_deadline(_text(fields, "deadline", "deadline"))
        if entry.get("deadline") and date.fromisoformat(wanted) <= date.fromisoformat(entry["deadline"]):
            raise TriageError("extension_not_later")
        reason = _text(fields, "extension_reason", "reason", "note")
        new["extension"] = {"deadline": wanted, "reason": reason, "by": actor.name, "at": at}
        note = f"申请延期至 {wanted}：{reason}"
    elif action in ("grant_extension", "refuse_extension"):
        extension = entry.get("extension")
        if not extension:
            raise TriageError("no_extension")
        if action == "grant_extension":
            new["deadline"] = extension["deadline"]
            note = note or f"同意延期至 {extension['deadline']}"
        else:
            note = _text(fields, "refusal_reason", "reason", "note")
        new["extension"] = None
    elif action == "progress":
        note = _text(fields, "progress", "note")
    elif action == "submit":
        outcome = fields.get("outcome") or ""
        if outcome not in OUTCOMES or outcome == "merged":
            raise TriageError("choose_outcome")
        result = _text(fields, "result", "result")
        reply = _text(fields, "public_reply", "public_reply")
        new.update(status="review", proposal={"outcome": outcome, "result": result, "public_reply": reply,
                                              "by": actor.name, "at": at})
        note = note or result
    elif action in ("approve", "redo"):
        proposal = entry.get("proposal")
        if not proposal:
            raise TriageError("no_proposal")
        if action == "approve":
            reply = (fields.get("public_reply") or "").strip() or proposal["public_reply"]
            if len(reply) > 2000:
                raise TriageError("too_long_public_reply")
            new.update(status="closed", outcome=proposal["outcome"], public_reply=reply, closed_at=at, weekly=False)
            note = note or proposal["result"]
        else:
            note = _text(fields, "redo_reason", "reason", "note")
            new["status"] = "in_progress"
        new["proposal"] = None
    elif action == "urge":
        new["urges"] = int(entry.get("urges") or 0) + 1
    elif action == "supervise":
        # The number comes from the letters' book (r7-letters), which counts per year.
        new["supervision"] = _text(fields, "supervision", "supervision")
        note = note or f"督办：{new['supervision']}"
    return note, extra

