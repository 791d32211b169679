"""撤回: an account takes back its own last step on a matter, within the registry's
`undo_minutes` and only while nobody acted after it. Never a deletion: the undo is a new
step (`action: "undo"`, `undid`: the index of the step it takes back) that restores the
fields the step changed, which every step keeps in `before`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

__all__ = ["NOT_UNDONE", "can_undo", "plain", "undone_fields"]

# Steps that reach beyond their record (a merge moves other records) or undo themselves.
# A citizen's own steps (a verdict, an answer by receipt) are no office account's to take
# back, whatever the account is called.
NOT_UNDONE = frozenset({"undo", "merge", "merged_from", "merge_moved", "verdict", "answer"})


def plain(value: Any) -> Any:
    """JSON-shaped: a stored entry's read-only mappings and tuples as dicts and lists."""
    if isinstance(value, Mapping):
        return {k: plain(value[k]) for k in value}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def can_undo(entry: Mapping[str, Any], name: str, now: datetime, minutes: int) -> str | None:
    """None when `name` may undo the matter's last step now, else a MESSAGES code."""
    history = entry.get("history") or ()
    if not history or not name or history[-1].get("by") != name:
        return "nothing_to_undo"
    step = history[-1]
    if step.get("action") in NOT_UNDONE or not isinstance(step.get("before"), Mapping):
        return "undo_not_possible"
    try:
        at = datetime.fromisoformat(step["at"])
    except (TypeError, ValueError):
        return "undo_not_possible"
    if now - at > timedelta(minutes=minutes):
        return "undo_too_late"
    return None


def undone_fields(entry: Mapping[str, Any]) -> tuple[int, dict[str, Any], str]:
    """(index of the step taken back, the fields as they were before it, its status before)."""
    index = len(entry["history"]) - 1
    step = entry["history"][index]
    return index, plain(step["before"]), step["from"]
