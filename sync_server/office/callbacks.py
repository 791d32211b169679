"""The 回访 list's rules (issue 22), pure: which closed matters wait for a phone call
this round, and how many calls each has had. A matter waits when it was closed (办结,
已回访, 不予受理; never a merged duplicate) and no call this round reached the citizen:
never called, or only 未接通 so far (shown with its count). A call that reached them
(满意, 基本满意, 不满意) ends the wait until 重新办理 starts a new round. Whether the
citizen consented to a phone, and whether retention has removed it, is the page's to
check on the stored record (`callbacks_page`): nothing here reads a phone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["STATUSES", "Waiting", "has_phone", "may_call", "waiting"]

STATUSES = ("closed", "followed_up", "declined")


def may_call(account) -> bool:
    """Who sees the 回访 list: those allowed to see citizens' phones, office staff alone
    (as every page shows phones: `record_pages`, the 明细 export, the meeting pack)."""
    return account.role == "staff"


@dataclass(frozen=True)
class Waiting:
    id: str
    entry: Mapping[str, Any]
    attempts: int  # 未接通 calls this round


def _this_round(history) -> list:
    """The steps since the last 重新办理 (the whole history when there was none)."""
    steps = list(history or ())
    for index in range(len(steps) - 1, -1, -1):
        if steps[index].get("action") == "reopen":
            return steps[index + 1 :]
    return steps


def waiting(entries: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Waiting]:
    """The matters among `entries` (id, triage entry) still to be called this round,
    those closed longest ago first: the citizen who has waited longest is called first."""
    found = []
    for submission_id, entry in entries:
        if entry.get("status") not in STATUSES or entry.get("outcome") == "merged":
            continue
        calls = [s for s in _this_round(entry.get("history")) if s.get("action") == "follow_up"]
        # An older version's 回访 step names no choice: it reached the citizen (it set 满意度).
        if any(s.get("choice") != "no_answer" for s in calls):
            continue
        found.append(Waiting(submission_id, entry, len(calls)))
    found.sort(key=lambda w: (w.entry.get("closed_at") or w.entry.get("updated_at") or "", w.id))
    return found


def has_phone(record: dict[str, Any]) -> bool:
    """A consented phone still on the stored record, plain or sealed (retention drops
    both the number and the consent)."""
    if not record.get("consent"):
        return False
    sealed = record.get("sealed")
    return bool(record.get("phone") or (isinstance(sealed, dict) and sealed.get("phone")))
