"""One department's queue (我的待办): which of the matters it leads sit under which tab,
how many under each, one page of a tab in the order a department works it (the flags 群众不满意 and
群众已补充 are tabs too), and the
matters it only helps with (协办) apart. Pure: from (id, triage entry) pairs to ids; the
page (`queue_page`) turns ids into rows.

A matter may sit under two tabs at once (办理中 and 临期): tabs are views, not states,
as in the work-order systems departments already use (see `dispatch.queue.queue_tab`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync_server.dispatch.queue import queue_tab

__all__ = ["CO_STATUSES", "FLAG_TABS", "PAGE_SIZE", "TABS", "Queue", "department_queue", "touches"]

TABS = {"to_sign": "待签收", "handling": "办理中", "due_soon": "临期", "overdue": "超期", "returned": "已退回",
        "review": "待审核", "dissatisfied": "群众不满意", "citizen_added": "群众已补充"}
# Tabs that are the triage entry's flags of the same name (issue 22): a closed matter the
# citizen judged 不满意 comes back to the department's sight until staff answer it.
FLAG_TABS = ("dissatisfied", "citizen_added")
CO_STATUSES = ("assigned", "in_progress", "review")  # a 协办 unit sees the matter while it is open
PAGE_SIZE = 25


@dataclass(frozen=True)
class Queue:
    tab: str
    counts: dict[str, int]
    ids: list[str]  # this page of the tab, in working order
    total: int
    pages: int
    page: int
    co_ids: list[str]  # open matters it helps with, soonest deadline first (the first PAGE_SIZE)
    co_total: int


def touches(entry: Mapping[str, Any], department: str) -> str:
    """"lead", "co" or "": how `department` stands to the matter (see design: visibility).
    A matter it sent back stays its own (read-only, under 已退回) until dispatched elsewhere."""
    if not department:
        return ""
    if entry.get("department") == department:
        return "lead"
    if entry.get("status") == "returned" and entry.get("returned_by") == department:
        return "lead"
    if department in (entry.get("co_departments") or ()):
        return "co"
    return ""


def _by_deadline(pair: tuple[str, Mapping[str, Any]]) -> tuple[str, str]:
    entry = pair[1]
    return (entry.get("deadline") or "9999-12-31", entry.get("dispatched_at") or "")


def _by_change(pair: tuple[str, Mapping[str, Any]]) -> str:
    return pair[1].get("updated_at") or ""


def department_queue(entries: Iterable[tuple[str, Mapping[str, Any]]], department: str, tab: str, page: int,
                     today: date, rules: Any) -> Queue:
    """The queue of `department` as of `today`. `tab` is one of TABS (anything else: the
    first tab); `rules` are the registry's dispatch rules (the 临期 warning days)."""
    tab = tab if tab in TABS else "to_sign"
    counts = dict.fromkeys(TABS, 0)
    chosen: list[tuple[str, Mapping[str, Any]]] = []
    helped: list[tuple[str, Mapping[str, Any]]] = []
    for submission_id, entry in entries:
        stand = touches(entry, department)
        if stand == "co":
            if entry.get("status") in CO_STATUSES:
                helped.append((submission_id, entry))
            continue
        if not stand:
            continue
        tabs = queue_tab(entry, today, rules) | {name for name in FLAG_TABS if entry.get(name)}
        for name in tabs:
            counts[name] += 1
        if tab in tabs:
            chosen.append((submission_id, entry))
    # Soonest deadline first where a deadline drives the work; newest first where the
    # office is the one to act next (已退回, 待审核).
    if tab in ("returned", "review", *FLAG_TABS):
        chosen.sort(key=_by_change, reverse=True)
    else:
        chosen.sort(key=_by_deadline)
    helped.sort(key=_by_deadline)
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    number = min(max(1, page), pages)
    shown = [i for i, _ in chosen[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
    return Queue(tab, counts, shown, len(chosen), pages, number, [i for i, _ in helped[:PAGE_SIZE]], len(helped))
