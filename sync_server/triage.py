"""The office's handling of a submission: its lifecycle, with a history entry for
every change. Pure rules (`apply`) over a plain dict; `triagebook.TriageBook` keeps them on disk.

已收到 -> 已受理 | 不予受理 -> 已交办 -> 办理中 -> 已办结 -> 已回访. A dissatisfied
follow-up reopens the record (办理中). Outcome is kept apart from status. A duplicate
is merged into another record: it is closed with outcome "merged" and both texts stay.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

__all__ = ["ACTIONS", "OUTCOMES", "STATUSES", "TRACKS", "TriageError", "apply", "is_overdue", "new_entry"]

STATUSES = {
    "received": "已收到",
    "accepted": "已受理",
    "declined": "不予受理",
    "assigned": "已交办",
    "in_progress": "办理中",
    "closed": "已办结",
    "followed_up": "已回访",
}
TRACKS = {"immediate": "立行立改", "long_term": "长效常治"}
OUTCOMES = {"resolved": "已解决", "partly": "部分解决", "not_ours": "不属于职责范围", "merged": "已合并"}
SATISFACTION = {"satisfied": "满意", "fair": "基本满意", "dissatisfied": "不满意"}
OPEN = ("received", "accepted", "assigned", "in_progress")

# action: (statuses it may start from, label). Department users may only take DEPARTMENT_ACTIONS.
ACTIONS = {
    "accept": (("received",), "受理"),
    "decline": (("received",), "不予受理"),
    "assign": (("accepted", "assigned", "in_progress"), "交办"),
    "start": (("assigned",), "开始办理"),
    "flag_weekly": (("assigned", "in_progress"), "提交周例会"),
    "unflag_weekly": (("assigned", "in_progress"), "撤出周例会"),
    "close": (("assigned", "in_progress"), "办结"),
    "follow_up": (("closed",), "回访"),
    "reply": (tuple(STATUSES), "公开答复"),
    "merge": (OPEN, "合并到另一条"),
}
DEPARTMENT_ACTIONS = frozenset({"start", "flag_weekly", "unflag_weekly", "close", "reply"})


class TriageError(ValueError):
    """An action that the record's status or the form's fields do not allow; a Chinese sentence."""


def new_entry(received_at: str) -> dict[str, Any]:
    return {
        "status": "received", "updated_at": received_at, "outcome": None, "track": None, "lead": "",
        "responsible": "", "deadline": None, "weekly": False, "public_reply": "", "reason": "",
        "satisfaction_after": None, "merged_into": None, "merged": [], "closed_at": None, "history": [],
    }


def _need(fields: dict[str, str], name: str, label: str) -> str:
    value = (fields.get(name) or "").strip()
    if not value:
        raise TriageError(f"请填写{label}。")
    if len(value) > 2000:
        raise TriageError(f"{label}最多 2000 个字。")
    return value


def _choice(fields: dict[str, str], name: str, choices: dict[str, str], label: str) -> str:
    value = fields.get(name) or ""
    if value not in choices:
        raise TriageError(f"请选择{label}。")
    return value


def apply(entry: dict[str, Any], action: str, fields: dict[str, str], by: str, now: datetime) -> dict[str, Any]:
    """The entry after `action`, with its history entry; raises TriageError if not allowed."""
    if action not in ACTIONS:
        raise TriageError("没有这个操作。")
    allowed, label = ACTIONS[action]
    status = entry["status"]
    if status not in allowed:
        raise TriageError(f"“{STATUSES[status]}”状态下不能{label}。")
    new = {**entry, "history": list(entry["history"])}
    note = (fields.get("note") or "").strip()[:2000]
    if action == "accept":
        new["status"] = "accepted"
    elif action == "decline":
        new["status"], new["reason"] = "declined", _need(fields, "reason", "不予受理的理由")
        note = note or new["reason"]
    elif action == "assign":
        deadline = _need(fields, "deadline", "办理期限")
        try:
            date.fromisoformat(deadline)
        except ValueError:
            raise TriageError("办理期限的格式应为 年-月-日。") from None
        new.update(
            status="assigned" if status == "accepted" else status,
            lead=_need(fields, "lead", "牵头部门"),
            responsible=(fields.get("responsible") or "").strip()[:500],
            deadline=deadline,
            track=_choice(fields, "track", TRACKS, "办理方式（立行立改或长效常治）"),
        )
        note = note or f"{new['lead']}牵头，{TRACKS[new['track']]}，期限 {deadline}"
    elif action == "start":
        new["status"] = "in_progress"
        new["weekly"] = fields.get("weekly") == "yes"
    elif action in ("flag_weekly", "unflag_weekly"):
        new["weekly"] = action == "flag_weekly"
    elif action == "close":
        new["status"], new["closed_at"] = "closed", now.isoformat(timespec="seconds")
        new["outcome"] = _choice(fields, "outcome", {k: v for k, v in OUTCOMES.items() if k != "merged"}, "办结结果")
        new["weekly"] = False
    elif action == "follow_up":
        satisfaction = _choice(fields, "satisfaction", SATISFACTION, "回访满意度")
        new["satisfaction_after"] = satisfaction
        # A dissatisfied follow-up reopens the record: the problem is not solved.
        new["status"] = "in_progress" if satisfaction == "dissatisfied" else "followed_up"
        if satisfaction == "dissatisfied":
            new["outcome"], new["closed_at"] = None, None
    elif action == "reply":
        new["public_reply"] = _need(fields, "public_reply", "公开答复")
        note = note or new["public_reply"]
    elif action == "merge":
        new.update(status="closed", outcome="merged", merged_into=_need(fields, "into", "要合并到的记录"),
                   closed_at=now.isoformat(timespec="seconds"), weekly=False)
    new["updated_at"] = now.isoformat(timespec="seconds")
    new["history"].append({"at": new["updated_at"], "by": by, "action": action, "from": status,
                           "to": new["status"], "note": note})
    return new


def is_overdue(entry: dict[str, Any], today: date) -> bool:
    return (
        entry["status"] in ("assigned", "in_progress")
        and entry["deadline"] is not None
        and date.fromisoformat(entry["deadline"]) < today
    )


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
