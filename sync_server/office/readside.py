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
import contextlib
import copy
import gc
import sys
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import Any, Protocol

from minqing.registry import Registry

from ..triage import is_overdue, new_entry
from .records import PAGE_SIZE, Filters, Row, local_date

__all__ = ["MemoryReadSide", "Page", "ReadSide", "ReportRows", "Summary", "no_cyclic_gc"]

_KEY = attrgetter("received_at", "order")  # Summary.key, at C speed
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
                 "flags", "order", "rank", "phone")

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
        # Whether a consented phone was stored (never the number): a report reads the
        # record from disk only then. A phone is only ever removed, so True means "maybe".
        self.phone = bool(record.get("consent") and record.get("phone"))
        self.rank = 0  # its place in the read side's ordered list (see `MemoryReadSide._renumber`)

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


@dataclass(frozen=True)
class ReportRows:
    """The rows a meeting report is made of, newest first, one `Row` per record shared
    between the lists: received in the period, triage changed since its start (where
    closures and follow-ups of older records show), flagged for the meeting, overdue."""

    received: list[Row]
    changed: list[Row]
    weekly: list[Row]
    overdue: list[Row]


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

    def may_have_phone(self, submission_id: str) -> bool:
        """False when the record was stored without a consented phone: no need to read it."""
        ...

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = ()) -> Page:
        """`also_matching`: ids the caller found to match `filters.q` where the read side
        cannot look (sealed words opened for this session); the other filters and
        `sectors` still apply to them."""
        ...

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None: ...

    def report_rows(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> list[Row]:
        """Rows received between start and end (local dates), plus every row with a
        triage entry (closures, meeting items and follow-ups happen to older records)."""
        ...

    def report_sets(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> ReportRows:
        """Only what a report of the period needs (see `ReportRows`), never every triaged
        record. Local dates; "changed since start" may include a day early (the caller
        compares exact dates). A database answers it with four indexed queries
        (received_at, updated_at, the weekly flag, open deadlines)."""
        ...

    def version(self) -> object:
        """A token that compares equal (==) between two calls only if no record arrived
        and no triage entry changed in between: a built report is reused while it holds.
        A database returns its newest record and triage-log sequence numbers."""
        ...


def _open_deadline(entry: dict[str, Any]) -> date | None:
    """The deadline that makes this entry overdue once passed (see `triage.is_overdue`)."""
    if entry["status"] in ("assigned", "in_progress") and entry.get("deadline") is not None:
        return date.fromisoformat(entry["deadline"])
    return None


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
        self._snapshot: tuple[list[Summary], dict[str, Summary]] = (self._items, self._by_id)
        self._triage: dict[str, dict[str, Any]] = {}
        self._chunks: list[tuple[str, list[int], list[str]]] = []
        self._chunks_of: list[Summary] | None = None
        self._pending: list[Summary] = []
        # Triage facts by id, kept as entries change so a filter is a set, not a scan of
        # every entry: ids by status, weekly ids, open entries' deadlines (for overdue)
        # and folded public replies (for search). Replaced, never changed in place: a
        # reader in another thread may be iterating the old one.
        self._by_status: dict[str, frozenset[str]] = {}
        self._weekly: frozenset[str] = frozenset()
        self._deadlines: dict[str, date] = {}
        self._replies: dict[str, str] = {}
        if records is not None:
            self.load(records, triage or {})

    def feed(self, records: Iterable[dict[str, Any]]) -> None:
        """Summarise stored records as the inbox reads them at open (its `on_open`), so
        the records are read once for both; `finish` then makes the index answer."""
        pending = self._pending
        pending.extend(Summary(record, len(pending) + n) for n, record in enumerate(records))

    def load(self, records: Iterable[dict[str, Any]], triage: dict[str, dict[str, Any]]) -> None:
        """Build the index from every stored record. Records that arrived meanwhile
        (`records_added` runs from the start) are kept: nothing is missed or doubled."""
        try:
            with no_cyclic_gc():
                self.feed(records)
        except BaseException as exc:
            self._failure = exc
            self._loaded.set()
            raise
        self.finish(triage)

    def finish(self, triage: dict[str, dict[str, Any]]) -> None:
        try:
            summaries, self._pending = self._pending, []
            with self._write:
                known = {s.id for s in summaries}
                late = [s for s in self._items if s.id not in known]
                for n, summary in enumerate(late):
                    summary.order = len(summaries) + n
                summaries += late
                summaries.sort(key=_KEY)
                self._renumber(summaries, {s.id: s for s in summaries})
                self._set_triage({**triage, **self._triage}, triage)
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
            fresh.sort(key=_KEY)
            items = self._items
            if not items or items[-1].key() <= fresh[0].key():
                for n, summary in enumerate(fresh):
                    summary.rank = len(items) + n
                items.extend(fresh)  # before the ids: a reader finding an id finds its place
                by_id.update((s.id, s) for s in fresh)
            else:  # an older receive time (an import): place each where it belongs
                # New summaries, so the ranks a reader holds stay true for its old list.
                items = [copy.copy(s) for s in items]
                for summary in fresh:
                    bisect.insort(items, summary, key=_KEY)
                self._renumber(items, {s.id: s for s in items})

    def _renumber(self, items: list[Summary], by_id: dict[str, Summary]) -> None:
        """Make `items` the ordered list: each summary's `rank` is its index, so a page of
        chosen records is a sort of small integers, not of receive times."""
        for rank, summary in enumerate(items):
            summary.rank = rank
        self._snapshot = (items, by_id)
        self._items, self._by_id = items, by_id

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None:
        with self._write:
            self._set_triage({**self._triage, **entries}, entries)

    def _set_triage(self, triage: dict[str, dict[str, Any]], changed: dict[str, dict[str, Any]]) -> None:
        """Take `triage` (every entry) after `changed` were stored: the derived sets are
        updated for the changed ids only, each replaced whole (see `__init__`)."""
        if len(changed) * 4 > len(triage):  # a load, or most of the book: rebuild
            old: dict[str, dict[str, Any]] = {}
            touched: dict[str, set[str]] = {}
            changed = triage
        else:
            old = self._triage
            statuses = {e["status"] for e in changed.values()}
            statuses |= {old[i]["status"] for i in changed if i in old}
            touched = {k: set(self._by_status.get(k, ())) for k in statuses}
        weekly = set(self._weekly) if old else set()
        deadlines = dict(self._deadlines) if old else {}
        replies = dict(self._replies) if old else {}
        for submission_id, entry in changed.items():
            before = old.get(submission_id)
            if before is not None:
                touched[before["status"]].discard(submission_id)
            touched.setdefault(entry["status"], set()).add(submission_id)
            (weekly.add if entry.get("weekly") else weekly.discard)(submission_id)
            deadline = _open_deadline(entry)
            if deadline is None:
                deadlines.pop(submission_id, None)
            else:
                deadlines[submission_id] = deadline
            reply = (entry.get("public_reply") or "").lower()
            if reply:
                replies[submission_id] = reply
            else:
                replies.pop(submission_id, None)
        by_status = dict(self._by_status) if old else {}
        by_status.update((k, frozenset(v)) for k, v in touched.items())
        self._by_status, self._weekly, self._deadlines, self._replies = by_status, frozenset(weekly), deadlines, replies
        self._triage = triage

    # -- reading -------------------------------------------------------------------

    def count(self) -> int:
        return len(self._items)

    def may_have_phone(self, submission_id: str) -> bool:
        summary = self._by_id.get(submission_id)
        return summary is None or summary.phone

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

    def _search(self, items: list[Summary], q: str) -> list[int]:
        """Ranks (places in `items`) of the records whose text or receipt holds q, in
        order: str.find over one string per chunk of records (C speed), instead of a
        Python test per record."""
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
        found: list[int] = []
        bisect_right, add = bisect.bisect_right, found.append
        for number, (text, starts, _ids) in enumerate(chunks):
            base, last = number * CHUNK, len(starts)
            position = text.find(q)
            while position != -1:
                index = bisect_right(starts, position)
                add(base + index - 1)
                if index == last:
                    break
                position = text.find(q, starts[index])
        return found

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = ()) -> Page:
        (items, by_id), triage = self._snapshot, self._triage
        facts = _station_facts(registry)
        stations = self._visible_stations(facts, sectors, filters.sector)
        if filters.station:
            stations = {filters.station} if stations is None or filters.station in stations else set()
        # Narrow to a set of ids first where a filter allows it (triage sets are kept
        # up to date; a search is one find per chunk), then order them by rank.
        chosen: frozenset[str] | set[str] | None = None

        def narrow(ids: frozenset[str] | set[str]) -> None:
            nonlocal chosen
            chosen = ids if chosen is None else chosen & ids

        status = filters.status
        by_status = self._by_status
        if status and status != "received":
            narrow(by_status.get(status, frozenset()))
        if filters.overdue:
            narrow({i for i, deadline in self._deadlines.items() if deadline < today})
        if filters.weekly:
            narrow(self._weekly)
        handled = (frozenset().union(*(ids for k, ids in by_status.items() if k != "received"))
                   if status == "received" else None)
        q = filters.q.lower().replace("\x00", "").replace("\x01", "")
        ranks: list[int] | None = None
        if q:
            found = set(self._search(items, q))
            found.update(by_id[i].rank for i, reply in self._replies.items() if q in reply and i in by_id)
            found.update(by_id[i].rank for i in also_matching if i in by_id)
            ranks = [r for r in found if items[r].id in chosen] if chosen is not None else list(found)
        elif chosen is not None:
            ranks = [by_id[i].rank for i in chosen if i in by_id]
        if ranks is not None:
            ranks.sort(reverse=True)
            pool = [items[r] for r in ranks]
        else:
            pool = items[::-1]
        # Each remaining filter is one tight pass over what is left.
        since, until = filters.since, filters.until
        if stations is not None:
            pool = [s for s in pool if s.station_id in stations]
        if since:
            pool = [s for s in pool if s.day >= since]
        if until:
            pool = [s for s in pool if s.day <= until]
        if handled is not None:
            pool = [s for s in pool if s.id not in handled]
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

    def version(self) -> object:
        # Records are only ever added (an import grows the list too) and the triage
        # mapping is replaced whole on every change, never changed in place (see
        # `_set_triage`): equal counts and equal mappings mean the same inputs. The
        # mapping itself, not its id(), so a freed mapping's address cannot be mistaken.
        return (len(self._items), self._triage)

    def report_sets(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> ReportRows:
        items, by_id = self._snapshot
        triage, weekly, deadlines = self._triage, self._weekly, self._deadlines
        facts = _station_facts(registry)
        stations = self._visible_stations(facts, sectors)
        first, last = start.isoformat(), end.isoformat()
        # Receive and change times are UTC; a local day is at most a day off, so bounds
        # a day early cover the period (exact dates are compared below or by the caller).
        bound = (start - timedelta(days=1)).isoformat() if start > date.min else ""
        low = bisect.bisect_left(items, bound, key=attrgetter("received_at"))
        received = [s for s in items[low:] if first <= s.day <= last]
        changed = [by_id[i] for i, entry in triage.items() if (entry.get("updated_at") or "") >= bound and i in by_id]
        flagged = [by_id[i] for i in weekly if i in by_id]
        late = {i for i, deadline in deadlines.items() if deadline < today}
        overdue = [by_id[i] for i in late if i in by_id]
        made: dict[str, Row] = {}

        def rows(summaries: list[Summary]) -> list[Row]:
            chosen = [s for s in summaries if stations is None or s.station_id in stations]
            chosen.sort(key=attrgetter("rank"), reverse=True)
            out = []
            for summary in chosen:
                row = made.get(summary.id)
                if row is None:
                    # As `_row`, with overdue read from the set just made: thousands of
                    # rows, and parsing each deadline again showed in the profile.
                    entry = triage.get(summary.id) or new_entry(summary.received_at)
                    station_name, sector_id, sector_name = facts.get(summary.station_id, (summary.station_id, "", ""))
                    row = made[summary.id] = Row(record=summary.as_record(), triage=entry, station_name=station_name,
                                                 sector_id=sector_id, sector_name=sector_name,
                                                 overdue=summary.id in late)
                out.append(row)
            return out

        with no_cyclic_gc():
            return ReportRows(rows(received), rows(changed), rows(flagged), rows(overdue))
