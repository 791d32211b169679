"""The office's read side: lists, filters, counts, search and report rows without a scan
of the inbox on disk.

`ReadSide` is the narrow interface the office pages use. `MemoryReadSide`
(`readside_index`) fills it from a compact summary of each record (no phone, nothing
the list does not show) kept up to date as records arrive (the inbox calls
`records_added` after each durable write) and as triage changes (`triage_changed`,
after each durable triage write). A database-backed read side (PostgreSQL: one table of
summaries, one of triage entries, indexes on received_at, status and station) fills the
same methods with queries; the pages need no change.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from minqing.registry import Registry
from sync_server.office.records import Filters, Row

__all__ = ["Page", "ReadSide", "ReportRows", "no_cyclic_gc"]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    pages: int
    page: int


@dataclass(frozen=True)
class ReportRows:
    """The rows a meeting report is made of, newest first, one `Row` per record shared
    between the lists: received in the period, triage changed since its start (where
    closures and follow-ups of older records show), flagged for the meeting, overdue."""

    received: list[Row]
    changed: list[Row]
    weekly: list[Row]
    overdue: list[Row]
    # Flagged 群众不满意 now (see `triage`): the pack's own section, whatever the period.
    dissatisfied: list[Row] = field(default_factory=list)


class ReadSide(Protocol):
    """What the office reads. `sectors` is the set of sector ids the reader may see, or
    None for every sector; `department`, when not None, limits the reader to the
    matters that department sees (dispatched to it, see `dispatch.visibility`), whatever
    their sector; `registry` names stations and sectors at query time (it reloads when
    the office edits it). `pages.readable_scope(account)` gives both."""

    def ready(self) -> bool: ...

    def failed(self) -> bool:
        """Whether loading failed (then `ready` is true, and `wait_ready` raises)."""
        ...

    def wait_ready(self) -> None:
        """Block until the read side can answer (an in-memory one loads at start)."""
        ...

    def records_added(self, records: Iterable[dict[str, Any]]) -> None: ...

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None: ...

    def count(self) -> int: ...

    def may_have_phone(self, submission_id: str) -> bool:
        """False when the record was stored without a consented phone: no need to read it."""
        ...

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = (), department: str | None = None) -> Page:
        """`also_matching`: ids the caller found to match `filters.q` where the read side
        cannot look (sealed words opened for this session); the other filters and
        `sectors` still apply to them."""
        ...

    def rows(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = (), department: str | None = None) -> list[Row]:
        """Every row `page` pages through for these arguments (its page number aside),
        newest first: what the 明细 export writes. A database answers it with the page's
        query without LIMIT and OFFSET."""
        ...

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None: ...

    def department_entries(self, department: str) -> list[tuple[str, dict[str, Any]]]:
        """(id, triage entry) of every stored record whose matter `department` leads, helps
        with (协办) or sent back (see `department_queue.touches`), in no order. A database
        answers it from an index on the entry's department and 协办 departments."""
        ...

    def entries_with_status(self, statuses: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
        """(id, triage entry) of every record listed under one of `statuses` (see
        `records.list_status`: a merged duplicate is "merged", not "closed"), newest
        first: the 回访 list's candidates. A database answers it from an index on status."""
        ...

    def report_sets(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date, department: str | None = None) -> ReportRows:
        """Only what a report of the period needs (see `ReportRows`), never every triaged
        record. Local dates; "changed since start" may include a day early (the caller
        compares exact dates). A database answers it with four indexed queries
        (received_at, updated_at, the weekly flag, open deadlines)."""
        ...

    def matters(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(station id, local day received, triage entry) of every triaged record, in no
        order: what the 成效 figures count (`verdict_figures.Matter`). A database answers
        it from the triage table joined to the records' station and received_at."""
        ...

    def unmapped_leads(self) -> int:
        """How many matters an older version dispatched to a 牵头部门 no department matches."""
        ...

    def version(self) -> object:
        """A token that compares equal (==) between two calls only if no record arrived
        and no triage entry changed in between: a built report is reused while it holds.
        A database returns its newest record and triage-log sequence numbers."""
        ...


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Hundreds of thousands of small objects made at once: the cyclic collector would
    rescan them again and again while they are made, for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
