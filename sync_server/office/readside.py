"""The office's read side: lists, filters, counts, search and report rows without a scan
of the inbox on disk.

`ReadSide` is the narrow interface the office pages use. `MemoryReadSide` fills it from
a compact summary of each record (no phone, nothing the list does not show) kept up to
date as records arrive (the inbox calls `records_added` after each durable write) and
as triage changes (`triage_changed`, after each durable triage write). A database-backed
read side (PostgreSQL: one table of summaries, one of triage entries, indexes on
received_at, status and station) fills the same methods with queries; the pages need
no change.

Readers take no lock, so an office query never holds up a citizen's upload: writers
(the intake's worker thread, an office action) either append in place, which a reader
walking the list by index tolerates, or swap in a new container.
"""

from __future__ import annotations

import bisect
import gc
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from minqing.registry import Registry

from ..triage import is_overdue, new_entry
from .records import PAGE_SIZE, Filters, Row, local_date

__all__ = ["MemoryReadSide", "Page", "ReadSide", "Summary"]

CHUNK = 1024  # records per search string: only the newest is rebuilt as records arrive


_DAYS: dict[tuple[str, bool], str] = {}


def _local_day(received_at: str) -> str:
    """The Beijing date of a receive time; the server's own UTC times take a fast path
    (a million `fromisoformat` calls would cost seconds at start)."""
    if received_at.endswith("+00:00") and len(received_at) >= 13 and received_at[11:13].isdigit():
        key = (received_at[:10], int(received_at[11:13]) >= 16)
        day = _DAYS.get(key)
        if day is None:
            day = _DAYS[key] = local_date(received_at).isoformat()
        return day
    return local_date(received_at).isoformat()


class Summary:
    """What the office lists of one record; the full record stays on disk."""

    __slots__ = ("id", "received_at", "day", "station_id", "receipt", "rating", "feeling", "suggestion", "folded",
                 "flags", "order")

    def __init__(self, record: dict[str, Any], order: int) -> None:
        self.id: str = record["id"]
        self.received_at: str = record["received_at"]
        self.day: str = _local_day(record["received_at"])
        self.station_id: str = sys.intern(record["station_id"])
        self.receipt: str = record["receipt"]
        self.rating = record.get("rating")
        self.feeling: str = record.get("feeling") or ""
        self.suggestion: str = record.get("suggestion") or ""
        text = self.feeling + "\n" + self.suggestion
        folded = text.lower()
        # Chinese text has no case: keep a folded copy only where it differs (memory).
        self.folded: str | None = folded if folded != text else None
        self.flags: tuple[str, ...] = tuple(record.get("flags") or ())
        self.order = order

    def key(self) -> tuple[str, int]:
        return (self.received_at, self.order)

    def matches_text(self, q: str) -> bool:
        if self.folded is not None:
            return q in self.folded
        return q in self.feeling or q in self.suggestion

    def as_record(self) -> dict[str, Any]:
        return {"id": self.id, "received_at": self.received_at, "station_id": self.station_id,
                "receipt": self.receipt, "rating": self.rating, "feeling": self.feeling,
                "suggestion": self.suggestion, "flags": list(self.flags)}


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    pages: int
    page: int


class ReadSide(Protocol):
    """What the office reads. `sectors` is the set of sector ids the reader may see, or
    None for every sector; `registry` names stations and sectors at query time (it
    reloads when the office edits it)."""

    def ready(self) -> bool: ...

    def wait_ready(self) -> None:
        """Block until the read side can answer (an in-memory one loads at start)."""
        ...

    def records_added(self, records: Iterable[dict[str, Any]]) -> None: ...

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None: ...

    def count(self) -> int: ...

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date) -> Page: ...

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None: ...

    def report_rows(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> list[Row]:
        """Rows received between start and end (local dates), plus every row with a
        triage entry (closures, meeting items and follow-ups happen to older records)."""
        ...


def _station_facts(registry: Registry) -> dict[str, tuple[str, str, str]]:
    facts = {}
    for station in registry.stations:
        try:
            sector = registry.sector(station.sector)
            facts[station.id] = (station.name, sector.id, sector.name)
        except (KeyError, LookupError):
            facts[station.id] = (station.name, "", "")
    return facts


class MemoryReadSide:
    """The read side in this process's memory: about 1 KB per record."""

    def __init__(self, records: Iterable[dict[str, Any]] | None = None,
                 triage: dict[str, dict[str, Any]] | None = None) -> None:
        self._write = threading.Lock()  # writers only; readers take snapshots
        self._loaded = threading.Event()
        self._failure: BaseException | None = None
        self._items: list[Summary] = []
        self._by_id: dict[str, Summary] = {}
        self._triage: dict[str, dict[str, Any]] = {}
        self._chunks: list[tuple[str, list[int], list[str]]] = []
        self._chunks_of: list[Summary] | None = None
        if records is not None:
            self.load(records, triage or {})

    def load(self, records: Iterable[dict[str, Any]], triage: dict[str, dict[str, Any]]) -> None:
        """Build the index from every stored record. Records that arrived meanwhile
        (`records_added` runs from the start) are kept: nothing is missed or doubled."""
        try:
            # Hundreds of thousands of small objects: the cyclic collector would rescan
            # them again and again while they are made, for nothing.
            collecting = gc.isenabled()
            gc.disable()
            try:
                summaries = [Summary(record, order) for order, record in enumerate(records)]
            finally:
                if collecting:
                    gc.enable()
            with self._write:
                known = {s.id for s in summaries}
                late = [s for s in self._items if s.id not in known]
                for n, summary in enumerate(late):
                    summary.order = len(summaries) + n
                summaries += late
                summaries.sort(key=Summary.key)
                self._items, self._by_id = summaries, {s.id: s for s in summaries}
                self._triage = {**triage, **self._triage}
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            self._loaded.set()

    def ready(self) -> bool:
        return self._loaded.is_set()

    def wait_ready(self) -> None:
        self._loaded.wait()
        if self._failure is not None:
            raise RuntimeError("the office index could not be built") from self._failure

    # -- keeping up ----------------------------------------------------------------

    def records_added(self, records: Iterable[dict[str, Any]]) -> None:
        # This runs in the intake's writer thread, on the upload's path: the usual case
        # (newer records) appends in place, which a reader iterating the list, or
        # looking ids up, tolerates; only an out-of-order import copies the list.
        with self._write:
            by_id = self._by_id
            fresh = [Summary(r, len(by_id) + n) for n, r in enumerate(records) if r["id"] not in by_id]
            if not fresh:
                return
            fresh.sort(key=Summary.key)
            by_id.update((s.id, s) for s in fresh)
            items = self._items
            if not items or items[-1].key() <= fresh[0].key():
                items.extend(fresh)
            else:  # an older receive time (an import): place each where it belongs
                items = list(items)
                for summary in fresh:
                    bisect.insort(items, summary, key=Summary.key)
                self._items = items

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None:
        with self._write:
            self._triage = {**self._triage, **entries}

    # -- reading -------------------------------------------------------------------

    def count(self) -> int:
        return len(self._items)

    def _row(self, summary: Summary, entry: dict | None, facts: dict, today: date) -> Row:
        entry = entry or new_entry(summary.received_at)
        station_name, sector_id, sector_name = facts.get(summary.station_id, (summary.station_id, "", ""))
        return Row(record=summary.as_record(), triage=entry, station_name=station_name, sector_id=sector_id,
                   sector_name=sector_name, overdue=is_overdue(entry, today))

    def _visible_stations(self, facts: dict, sectors: frozenset[str] | None, only_sector: str = "") -> set[str] | None:
        if sectors is None and not only_sector:
            return None
        return {sid for sid, (_, sector, _) in facts.items()
                if (sectors is None or sector in sectors) and (not only_sector or sector == only_sector)}

    def _search(self, items: list[Summary], q: str) -> set[str]:
        """Ids whose text or receipt holds q: str.find over one string per chunk of
        records (C speed), instead of a Python test per record."""
        chunks = self._chunks if self._chunks_of is items else []
        self._chunks_of = items
        full = len(items) // CHUNK
        # Whole chunks are kept; a chunk built while partial is rebuilt (records arrived).
        chunks = [chunk for chunk in chunks[:full] if len(chunk[2]) == CHUNK]
        for number in range(len(chunks), -(-len(items) // CHUNK)):
            part = items[number * CHUNK : (number + 1) * CHUNK]
            texts = [(s.folded or (s.feeling + "\n" + s.suggestion)) + "\x01" + s.receipt.lower() for s in part]
            starts, at = [], 0
            for text in texts:
                starts.append(at)
                at += len(text) + 1
            chunks.append(("\x00".join(texts), starts, [s.id for s in part]))
        self._chunks = chunks
        found: set[str] = set()
        for text, starts, ids in chunks:
            position = text.find(q)
            while position != -1:
                index = bisect.bisect_right(starts, position) - 1
                found.add(ids[index])
                if index + 1 == len(starts):
                    break
                position = text.find(q, starts[index + 1])
        return found

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date) -> Page:
        items, triage, by_id = self._items, self._triage, self._by_id
        facts = _station_facts(registry)
        stations = self._visible_stations(facts, sectors, filters.sector)
        if filters.station:
            stations = {filters.station} if stations is None or filters.station in stations else set()
        # Narrow to a set of ids first where a filter allows it (triage entries are
        # few; a search is one find per chunk), then walk only those.
        chosen: set[str] | None = None

        def narrow(ids: set[str]) -> None:
            nonlocal chosen
            chosen = ids if chosen is None else chosen & ids

        status = filters.status
        if status and status != "received":
            narrow({i for i, e in triage.items() if e["status"] == status})
        if filters.overdue:
            narrow({i for i, e in triage.items() if is_overdue(e, today)})
        if filters.weekly:
            narrow({i for i, e in triage.items() if e["weekly"]})
        q = filters.q.lower().replace("\x00", "").replace("\x01", "")
        if q:
            narrow(self._search(items, q) | {i for i, e in triage.items() if q in (e.get("public_reply") or "").lower()})
        handled = {i for i, e in triage.items() if e["status"] != "received"} if status == "received" else None
        if chosen is not None:
            pool = sorted((by_id[i] for i in chosen if i in by_id), key=Summary.key, reverse=True)
        else:
            pool = items[::-1]
        since, until = filters.since, filters.until
        if stations is not None or since or until or handled is not None:
            pool = [s for s in pool
                    if (stations is None or s.station_id in stations) and (not since or s.day >= since)
                    and (not until or s.day <= until) and (handled is None or s.id not in handled)]
        total = len(pool)
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(filters.page, pages)
        shown = pool[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        return Page([self._row(s, triage.get(s.id), facts, today) for s in shown], total, pages, number)

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None:
        summary = self._by_id.get(submission_id)
        if summary is None:
            return None
        return self._row(summary, self._triage.get(submission_id), _station_facts(registry), today)

    def report_rows(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> list[Row]:
        items, by_id, triage = self._items, self._by_id, self._triage
        facts = _station_facts(registry)
        stations = self._visible_stations(facts, sectors)
        first, last = start.isoformat(), end.isoformat()
        # A record's local day is at most a day off its UTC receive time, so a bisect
        # on received_at a day early bounds the window.
        bound = (start - timedelta(days=1)).isoformat() if start > date.min else ""
        low = bisect.bisect_left(items, bound, key=lambda s: s.received_at)
        chosen = {s.id: s for s in items[low:] if first <= s.day <= last}
        for submission_id in triage:
            if submission_id not in chosen and submission_id in by_id:
                chosen[submission_id] = by_id[submission_id]
        rows = [self._row(s, triage.get(s.id), facts, today) for s in chosen.values()
                if stations is None or s.station_id in stations]
        rows.sort(key=lambda r: (r.record["received_at"], by_id[r.id].order), reverse=True)
        return rows
