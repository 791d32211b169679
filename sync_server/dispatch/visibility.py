"""Who sees a matter. A department sees exactly the matters dispatched to it, as lead
unit or 协办, never a record by its sector alone: a 交办 hands the matter over, and an
改派 takes it away again, history and all. A matter it sent back (退回) stays in its
已退回 tab, read-only, until the office dispatches it again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["dispatched_to", "sees_matter"]


def dispatched_to(department: str, entry: Mapping[str, Any]) -> bool:
    """Lead unit or 协办 of the matter now."""
    return bool(department) and (entry.get("department") == department
                                 or department in (entry.get("co_departments") or ()))


def sees_matter(account, entry: Mapping[str, Any] | None) -> bool:
    """Whether `account` may read the record whose triage entry is `entry` (None: not
    triaged yet). Staff see everything; viewers read reports, no record."""
    if account.role == "staff":
        return True
    if account.role != "department" or entry is None or not account.department:
        return False
    if dispatched_to(account.department, entry):
        return True
    return entry.get("status") == "returned" and entry.get("returned_by") == account.department
