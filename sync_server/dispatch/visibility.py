"""Who sees a matter. A department sees exactly the matters dispatched to it, as lead
unit or 协办, never a record by its sector alone: a 交办 hands the matter over, and an
改派 takes it away again, history and all. A matter it sent back (退回) stays in its
已退回 tab, read-only, until the office dispatches it again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["dispatched_to", "sees_matter", "seen_by"]


def dispatched_to(department: str, entry: Mapping[str, Any]) -> bool:
    """Lead unit or 协办 of the matter now."""
    return bool(department) and (entry.get("department") == department
                                 or department in (entry.get("co_departments") or ()))


def seen_by(entry: Mapping[str, Any] | None) -> frozenset[str]:
    """The departments that see the matter now (the read side indexes records by these)."""
    if entry is None:
        return frozenset()
    seen = {entry.get("department") or "", *(entry.get("co_departments") or ())}
    if entry.get("status") == "returned":
        seen.add(entry.get("returned_by") or "")
    seen.discard("")
    return frozenset(seen)


def sees_matter(account, entry: Mapping[str, Any] | None) -> bool:
    """Whether `account` may read the record whose triage entry is `entry` (None: not
    triaged yet). Staff see everything; viewers read reports, no record; a department
    account whose department could not be mapped (see `store.accounts`) sees nothing."""
    if account.role == "staff":
        return True
    if account.role != "department" or not account.department:
        return False
    return account.department in seen_by(entry)
