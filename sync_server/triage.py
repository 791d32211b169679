"""The office's handling of a submission: its lifecycle, with a history entry for
every change. Pure rules (`apply`): from a stored entry (a read-only mapping, see
`triageentry`) or a plain dict to a new plain dict; `triagebook.TriageBook` keeps them on disk.

已收到 -> 已受理 | 不予受理 -> 已交办 -> 办理中 -> 已办结 -> 已回访. A dissatisfied
follow-up reopens the record (办理中). Outcome is kept apart from status. A duplicate
is merged into another record: it is closed with outcome "merged" and both texts stay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

__all__ = ["ACTIONS", "CONFIRM", "DECLINE_REPLY", "EVENTS", "FIRST_YEAR", "LAST_YEAR", "MESSAGES", "OUTCOMES", "STATUSES",
           "SUMMARY_LIMIT", "TRACKS", "TriageError", "allowed_actions", "apply", "check_merge_target", "damage",
           "is_overdue", "new_entry"]

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
# History steps that are no action of their own, but a merge's mark on another record:
# the target gains a duplicate; a duplicate moves on with the record it was merged into.
EVENTS = {"merged_from": "合并了重复反映", "merge_moved": "随所合并的记录转并"}


CONFIRM = frozenset({"close", "decline", "merge"})  # asked twice: they end the matter for the citizen
CLOSED = ("closed", "followed_up", "declined")
DECLINE_REPLY = "感谢您的反映。经研究，此事项不属于本次专项整治的受理范围，我们已记录您的意见，并将转交相关部门参考。"

# Deadlines and report dates an office can mean: the reports take no date outside these
# years, and a deadline of year 1 made the meeting pack count 700,000 days overdue.
FIRST_YEAR, LAST_YEAR = 2000, 2100
SUMMARY_LIMIT = 200  # the meeting pack's one line, as the page's field allows

# Field name: its label, for the sentence that asks for it.
FIELDS = {
    "reason": "不予受理的理由", "public_reply": "公开答复", "deadline": "办理期限", "lead": "牵头部门",
    "track": "办理方式（立行立改或长效常治）", "outcome": "办结结果", "satisfaction": "回访满意度",
    "into": "要合并到的记录", "summary": "一句话概要",
}

# Every message the office shows after an action comes from this table by code: a URL
# never carries the sentence itself, so nobody can put words in the office's alert box.
MESSAGES = {
    "no_action": "没有这个操作。",
    "not_allowed": "这条记录当前的状态下不能执行这个操作。",
    "not_your_action": "您的账号不能执行这个操作。",
    "bad_deadline": f"办理期限应为 {FIRST_YEAR} 至 {LAST_YEAR} 年间的日期，格式为 年-月-日。",
    "summary_one_line": "一句话概要请写成一行，不要换行。",
    "merge_self": "请填写另一条记录的回执码。",
    "merge_unknown": "没有找到这个回执码的记录，或您无权查看它。",
    "merge_merged": "不能合并到一条已被合并的记录。",
    "merge_closed": "不能合并到一条已办结、已回访或不予受理的记录。",
    "merged_no_follow_up": "已合并的记录不需要回访，请在合并到的记录上回访。",
    **{f"missing_{name}": f"请填写{label}。" for name, label in FIELDS.items()},
    **{f"too_long_{name}": f"{label}最多 2000 个字。" for name, label in FIELDS.items()},
    **{f"choose_{name}": f"请选择{label}。" for name, label in FIELDS.items()},
    "too_long_summary": f"一句话概要最多 {SUMMARY_LIMIT} 个字。",
}


class TriageError(ValueError):
    """An action that the record's status or the form's fields do not allow.

    `code` is a key of MESSAGES; the Chinese sentence is its message."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def new_entry(received_at: str) -> dict[str, Any]:
    return {
        "status": "received", "updated_at": received_at, "outcome": None, "track": None, "lead": "",
        "responsible": "", "deadline": None, "weekly": False, "public_reply": "", "reason": "", "summary": "",
        "satisfaction_after": None, "merged_into": None, "merged": [], "closed_at": None, "history": [],
    }


def allowed_actions(entry: dict[str, Any], role: str) -> list[str]:
    """The actions this role may take on the entry now, in the order the page offers them."""
    status = entry["status"]
    return [a for a, (starts, _) in ACTIONS.items() if status in starts
            and (role == "staff" or a in DEPARTMENT_ACTIONS)
            and not (a == "follow_up" and entry.get("outcome") == "merged")]


def check_merge_target(target: dict[str, Any]) -> None:
    """A duplicate joins a matter still open: never one closed, declined or itself merged."""
    if target.get("outcome") == "merged":
        raise TriageError("merge_merged")
    if target["status"] in CLOSED:
        raise TriageError("merge_closed")


def _need(fields: dict[str, str], name: str) -> str:
    value = (fields.get(name) or "").strip()
    if not value:
        raise TriageError(f"missing_{name}")
    if len(value) > 2000:
        raise TriageError(f"too_long_{name}")
    return value


def _choice(fields: dict[str, str], name: str, choices: dict[str, str]) -> str:
    value = fields.get(name) or ""
    if value not in choices:
        raise TriageError(f"choose_{name}")
    return value


def _deadline(text: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        raise TriageError("bad_deadline")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise TriageError("bad_deadline") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise TriageError("bad_deadline")
    return day.isoformat()


def apply(entry: Mapping[str, Any], action: str, fields: dict[str, str], by: str, now: datetime) -> dict[str, Any]:  # noqa: C901 - one branch per lifecycle action, read as a table
    """The entry after `action`, with its history entry; raises TriageError if not allowed."""
    if action not in ACTIONS:
        raise TriageError("no_action")
    allowed, _label = ACTIONS[action]
    status = entry["status"]
    if status not in allowed:
        raise TriageError("not_allowed")
    new = {**new_entry(entry["updated_at"]), **entry, "history": list(entry["history"])}
    note = (fields.get("note") or "").strip()[:2000]
    if action == "accept":
        new["status"] = "accepted"
    elif action == "decline":
        new["status"], new["reason"] = "declined", _need(fields, "reason")
        # The citizen reads why, not only the word 不予受理.
        new["public_reply"] = _need(fields, "public_reply")
        new["closed_at"] = now.isoformat(timespec="seconds")
        note = note or new["reason"]
    elif action == "assign":
        # Re-assigning keeps the track and the deadline unless the form changes them.
        deadline = (fields.get("deadline") or "").strip() or entry.get("deadline") or ""
        if not deadline:
            raise TriageError("missing_deadline")
        track = fields.get("track") or entry.get("track") or ""
        if track not in TRACKS:
            raise TriageError("choose_track")
        summary = (fields.get("summary") or "").strip() or entry.get("summary") or ""
        # The page's field is one line of 200; a hand-made form is held to the same.
        if any(ch in summary for ch in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
            raise TriageError("summary_one_line")
        if len(summary) > SUMMARY_LIMIT:
            raise TriageError("too_long_summary")
        new.update(
            status="assigned" if status == "accepted" else status,
            lead=_need(fields, "lead"),
            responsible=(fields.get("responsible") or "").strip()[:500],
            deadline=_deadline(deadline),
            track=track,
            summary=summary,
        )
        note = note or f"{new['lead']}牵头，{TRACKS[new['track']]}，期限 {new['deadline']}"
    elif action == "start":
        new["status"] = "in_progress"
        # The box can add the meeting flag, never drop it: 撤出周例会 does that, visibly.
        new["weekly"] = bool(entry.get("weekly")) or fields.get("weekly") == "yes"
    elif action in ("flag_weekly", "unflag_weekly"):
        new["weekly"] = action == "flag_weekly"
    elif action == "close":
        new["status"], new["closed_at"] = "closed", now.isoformat(timespec="seconds")
        new["outcome"] = _choice(fields, "outcome", {k: v for k, v in OUTCOMES.items() if k != "merged"})
        new["weekly"] = False
    elif action == "follow_up":
        if entry.get("outcome") == "merged":
            raise TriageError("merged_no_follow_up")
        satisfaction = _choice(fields, "satisfaction", SATISFACTION)
        new["satisfaction_after"] = satisfaction
        # A dissatisfied follow-up reopens the record: the problem is not solved.
        new["status"] = "in_progress" if satisfaction == "dissatisfied" else "followed_up"
        if satisfaction == "dissatisfied":
            new["outcome"], new["closed_at"] = None, None
    elif action == "reply":
        new["public_reply"] = _need(fields, "public_reply")
        note = note or new["public_reply"]
    elif action == "merge":
        new.update(status="closed", outcome="merged", merged_into=_need(fields, "into"),
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


# Text fields the office computes on or shows (lists, filters, reports): text or nothing.
_TEXT_FIELDS = ("lead", "responsible", "public_reply", "reason", "summary", "outcome", "track",
                "satisfaction_after", "merged_into", "closed_at")


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
    return None


_FIELDS = frozenset(new_entry("").keys())


def completed(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A sound stored entry (see `damage`) with the fields an older version did not write
    at their defaults, after its own: the office reads every field of an entry."""
    if _FIELDS <= entry.keys():
        return entry
    return {**entry, **{k: v for k, v in new_entry(entry["updated_at"]).items() if k not in entry}}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
