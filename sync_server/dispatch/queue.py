"""A department's queue: which tabs a dispatched matter shows under. Pure: the page
(`office/queue_page.py`) filters the department's visible matters with these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sync_server.triage import is_overdue

__all__ = ["TABS", "queue_tab", "sign_overdue"]

TABS = {"to_sign": "待签收", "handling": "办理中", "due_soon": "临期", "overdue": "超期", "returned": "已退回",
        "review": "待审核"}


def queue_tab(entry: Mapping[str, Any], today: date, rules) -> set[str]:
    """The tabs of TABS the matter belongs to today (a matter may be in several: an
    unsigned matter close to its deadline is both 待签收 and 临期)."""
    status = entry["status"]
    tabs = set()
    if status == "assigned":
        tabs.add("to_sign")
    elif status == "in_progress":
        tabs.add("handling")
    elif status == "returned":
        tabs.add("returned")
    elif status == "review":
        tabs.add("review")
    if is_overdue(entry, today):
        tabs.add("overdue")
    elif status in ("assigned", "in_progress") and entry.get("deadline"):
        if date.fromisoformat(entry["deadline"]) <= today + timedelta(days=rules.warn_days):
            tabs.add("due_soon")
    return tabs


def sign_overdue(entry: Mapping[str, Any], now: datetime) -> bool:
    """Dispatched, not signed, and past its 签收 time."""
    due = entry.get("sign_due")
    return (entry["status"] == "assigned" and not entry.get("signed_at") and bool(due)
            and datetime.fromisoformat(due) < now)
