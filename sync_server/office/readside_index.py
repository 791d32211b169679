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
import re
import sys
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain, filterfalse
from operator import attrgetter
from typing import Any, Protocol

from minqing.registry import Registry
from sync_server.office.records import PAGE_SIZE, Filters, Row, list_status, local_date
from sync_server.triage import is_overdue, new_entry

__all__ = ["MemoryReadSide", "Page", "ReadSide", "ReportRows", "Summary", "no_cyclic_gc"]

_KEY = attrgetter("received_at", "order")  # Summary.key, at C speed
CHUNK = 1024  # records per search string: only the newest is rebuilt as records arrive
# In a search string each record ends with MARK and one character naming its place in
# the chunk (U+E000 + index, private use, so the string stays two bytes a character):
# one regex pass returns the places of every matching record, once each, at C speed.
# CUT parts the feeling from the suggestion and RECEIPT the words from the receipt.
MARK, SEP, PLACE, CUT, RECEIPT = "\x03", "\x00", 0xE000, "\x02", "\x01"
_UNSEARCHABLE = re.compile(f"[\x00-\x03{chr(PLACE)}-{chr(PLACE + CHUNK - 1)}]")
_PLACES = [chr(PLACE + n) for n in range(CHUNK)]
RECENT_SEARCHES = 16  # queries whose places per chunk are kept (a few hundred KB each at most)


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
    """What the office lists of one record; the full record stays on disk.

    The words are kept once: here until the search chunk that holds them is built, then
    as the place of their text in that chunk (see `_build_chunk`)."""

    __slots__ = ("id", "received_at", "day", "station_id", "receipt", "rating", "words", "flags", "order", "rank",
                 "phone")

    def __init__(self, record: dict[str, Any], order: int) -> None:
        self.id: str = record["id"]
        self.received_at: str = record["received_at"]
        self.day: str = _local_day(record["received_at"])
        self.station_id: str = sys.intern(record["station_id"])
        self.receipt: str = record["receipt"]
        rating = record.get("rating")
        self.rating = sys.intern(rating) if isinstance(rating, str) else rating
        feeling, suggestion = record.get("feeling") or "", record.get("suggestion") or ""
        # (feeling, suggestion), or (a chunk's display string, where the text starts in it).
        self.words: tuple[str, str] | tuple[str, int] = (feeling, suggestion) if feeling or suggestion else _NO_WORDS
        self.flags: tuple[str, ...] = tuple(record.get("flags") or ())
        self.order = order
        # Whether a consented phone was stored (never the number): a report reads the
        # record from disk only then. A phone is only ever removed, so True means "maybe".
        self.phone = bool(record.get("consent") and record.get("phone"))
        self.rank = 0  # its place in the read side's ordered list (see `MemoryReadSide._renumber`)

    def key(self) -> tuple[str, int]:
        return (self.received_at, self.order)

    def texts(self) -> tuple[str, str]:
        """(feeling, suggestion)."""
        words = self.words  # one read: a chunk build may swap it meanwhile
        if type(words[1]) is int:
            display, start = words
            feeling, _, suggestion = display[start : display.index(RECEIPT, start)].partition(CUT)
            return feeling, suggestion
        return words  # type: ignore[return-value]

    def as_record(self) -> dict[str, Any]:
        feeling, suggestion = self.texts()
        return {"id": self.id, "received_at": self.received_at, "station_id": self.station_id,
                "receipt": self.receipt, "rating": self.rating, "feeling": feeling,
                "suggestion": suggestion, "flags": list(self.flags)}


_NO_WORDS = ("", "")  # sealed records keep their words sealed: shared, not one per record


def _build_chunk(part: list[Summary]) -> tuple[str, int, str]:
    """The search chunk of `part` (CHUNK records at most): (search string, records,
    display string). Each record is its feeling, CUT, its suggestion, RECEIPT, its
    receipt, MARK and its place (see MARK), then SEP. The display string keeps the
    words' case; the search string is its lower-case copy, the same object where
    lowering changes nothing (Chinese text). Each summary then points into the display
    string instead of holding its own copy of the words."""
    words = [summary.texts() for summary in part]
    receipts = [summary.receipt.lower() for summary in part]
    dirty = bool(_UNSEARCHABLE.search("".join(chain.from_iterable(words))) or _UNSEARCHABLE.search("".join(receipts)))
    pieces: list[str] = []
    starts: list[int | None] = []
    at = 0
    for (feeling, suggestion), receipt, place in zip(words, receipts, _PLACES, strict=False):
        kept = True
        if dirty:  # rare: only then clean each record's words (and keep its own copy)
            clean = (_UNSEARCHABLE.sub("", feeling), _UNSEARCHABLE.sub("", suggestion))
            kept = clean == (feeling, suggestion)
            feeling, suggestion, receipt = *clean, _UNSEARCHABLE.sub("", receipt)
        starts.append(at if kept and (feeling or suggestion) else None)
        pieces += (feeling, CUT, suggestion, RECEIPT, receipt, MARK, place, SEP)
        at += len(feeling) + len(suggestion) + len(receipt) + 5
    display = "".join(pieces)
    search = display.lower()
    if search == display:
        search = display
    for summary, start in zip(part, starts, strict=True):
        if start is not None:
            summary.words = (display, start)
    return (search, len(part), display)


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


class _Facts:
    """Triage facts by rank (a record's place in the ordered list), so a filter is a set
    of small integers and a page a slice of them, never a pass over every record or
    entry: ranks by status, weekly ranks, open entries' deadlines in deadline order (the
    overdue are a prefix) and folded public replies (for search). Replaced whole, never
    changed in place: a reader in another thread may hold the old one."""

    __slots__ = ("status", "weekly", "deadlines", "replies")

    def __init__(self, status: dict[str, frozenset[int]] | None = None, weekly: frozenset[int] = frozenset(),
                 deadlines: list[tuple[int, int]] | None = None, replies: dict[int, str] | None = None) -> None:
        self.status = status or {}
        self.weekly = weekly
        self.deadlines = deadlines or []  # (deadline's ordinal, rank), sorted
        self.replies = replies or {}

    @staticmethod
    def _of(entry: dict[str, Any]) -> tuple[str, bool, int | None, str]:
        deadline = _open_deadline(entry)
        # Merged duplicates are a status of their own here (see `records.list_status`).
        return (list_status(entry), bool(entry.get("weekly")), deadline.toordinal() if deadline else None,
                (entry.get("public_reply") or "").lower())

    @classmethod
    def build(cls, triage: dict[str, dict[str, Any]], by_id: dict[str, Summary]) -> _Facts:
        return cls().changed([(by_id[i].rank, None, e) for i, e in triage.items() if i in by_id])

    def changed(self, changes: list[tuple[int, dict[str, Any] | None, dict[str, Any]]]) -> _Facts:
        """A copy with each (rank, entry before or None, entry now) applied."""
        status: dict[str, set[int]] = {}
        weekly, deadlines, replies = set(self.weekly), list(self.deadlines), dict(self.replies)

        def bucket(name: str) -> set[int]:
            found = status.get(name)
            if found is None:
                found = status[name] = set(self.status.get(name, ()))
            return found

        removed, added = [], []
        for rank, before, after in changes:
            if before is not None:
                name, _, deadline, _ = self._of(before)
                bucket(name).discard(rank)
                if deadline is not None:
                    removed.append((deadline, rank))
            name, flagged, deadline, reply = self._of(after)
            bucket(name).add(rank)
            (weekly.add if flagged else weekly.discard)(rank)
            if deadline is not None:
                added.append((deadline, rank))
            if reply:
                replies[rank] = reply
            else:
                replies.pop(rank, None)
        if len(removed) + len(added) > 64:  # a load: one sort, not an insertion each
            gone = set(removed)
            deadlines = sorted([d for d in deadlines if d not in gone] + added)
        else:
            for pair in removed:
                at = bisect.bisect_left(deadlines, pair)
                if at < len(deadlines) and deadlines[at] == pair:
                    del deadlines[at]
            for pair in added:
                bisect.insort(deadlines, pair)
        merged = dict(self.status)
        merged.update((name, frozenset(ranks)) for name, ranks in status.items())
        return _Facts(merged, frozenset(weekly), deadlines, replies)

    def overdue(self, today: date) -> list[int]:
        """Ranks of open entries whose deadline has passed (see `triage.is_overdue`)."""
        end = bisect.bisect_left(self.deadlines, (today.toordinal(),))
        return [rank for _, rank in self.deadlines[:end]]


def _at_stations(ranks: list[int] | range, lists: list, low: int, high: int) -> list[int]:
    """`ranks` (newest first) narrowed to the stations whose ranks are `lists`."""
    if isinstance(ranks, range):  # only the stations' own records, within their range
        return sorted((r for r in chain.from_iterable(lists) if low <= r < high), reverse=True)
    allowed = set(chain.from_iterable(lists))
    return list(filter(allowed.__contains__, ranks))


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
        self._chunks: list[tuple[str, int, str]] = []
        self._chunks_of: list[Summary] | None = None
        self._chunk_lock = threading.Lock()
        self._recent: dict[str, tuple[list[tuple[str, int, str]], list[list[int]]]] = {}
        self._pending: list[Summary] = []
        self._fed_chunks: list[tuple[str, int, str]] = []
        # Triage facts by rank (see `_Facts`), in the snapshot beside the list they index.
        # Ranks by station, in order: a sector or station filter reads its own records only.
        # Appended in place as records arrive, like the list (a reader bounds what it reads).
        self._snapshot: tuple[list[Summary], dict[str, Summary], _Facts, dict[str, list[int]]] = (
            self._items, self._by_id, _Facts(), {})
        if records is not None:
            self.load(records, triage or {})

    def feed(self, records: Iterable[dict[str, Any]]) -> None:
        """Summarise stored records as the inbox reads them at open (its `on_open`), so
        the records are read once for both; `finish` then makes the index answer."""
        pending, chunks = self._pending, self._fed_chunks
        for record in records:
            pending.append(Summary(record, len(pending)))
            if len(pending) % CHUNK == 0:
                # Chunked as they come, in the order stored (the usual final order), so the
                # words are never held twice for the whole inbox: see `finish`.
                chunks.append(_build_chunk(pending[-CHUNK:]))

    def load(self, records: Iterable[dict[str, Any]], triage: dict[str, dict[str, Any]]) -> None:
        """Build the index from every stored record. Records that arrived meanwhile
        (`records_added` runs from the start) are kept: nothing is missed or doubled."""
        try:
            with no_cyclic_gc():
                self.feed(records)
        except BaseException as exc:
            self.fail(exc)
            raise
        self.finish(triage)

    def finish(self, triage: dict[str, dict[str, Any]]) -> None:
        try:
            summaries, self._pending = self._pending, []
            fed, self._fed_chunks = self._fed_chunks, []
            with self._write:
                known = {s.id for s in summaries}
                late = [s for s in self._items if s.id not in known]
                for n, summary in enumerate(late):
                    summary.order = len(summaries) + n
                summaries += late
                stored = list(summaries)
                summaries.sort(key=_KEY)
                # The chunks made while feeding stay while their records kept their places.
                kept = 0
                while kept < len(fed) and summaries[kept * CHUNK : (kept + 1) * CHUNK] == stored[kept * CHUNK : (kept + 1) * CHUNK]:
                    kept += 1
                del stored
                # Changes stored while loading are newer than the book read at start.
                self._triage = {**triage, **self._triage}
                self._renumber(summaries, {s.id: s for s in summaries})
            with self._chunk_lock:
                self._chunks, self._chunks_of = fed[:kept], summaries
            self._chunked(summaries)  # the first search then costs no more than the next
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            self._loaded.set()

    def fail(self, exc: BaseException) -> None:
        """Give up before loading (what it needs could not be read): readers waiting for
        the index get the error, as after a failed load, instead of waiting for ever."""
        self._failure = exc
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
                _, _, facts, by_station = self._snapshot
                for summary in fresh:
                    by_station.setdefault(summary.station_id, []).append(summary.rank)
                triage = self._triage
                known = [(s.rank, None, triage[s.id]) for s in fresh if s.id in triage]
                if known:
                    self._snapshot = (items, by_id, facts.changed(known), by_station)
            else:  # an older receive time (an import): place each where it belongs
                # New summaries, so the ranks a reader holds stay true for its old list.
                items = [copy.copy(s) for s in items]
                for summary in fresh:
                    bisect.insort(items, summary, key=_KEY)
                self._renumber(items, {s.id: s for s in items})

    def _renumber(self, items: list[Summary], by_id: dict[str, Summary]) -> None:
        """Make `items` the ordered list: each summary's `rank` is its index, so a page of
        chosen records is a sort of small integers, not of receive times."""
        by_station: dict[str, list[int]] = {}
        for rank, summary in enumerate(items):
            summary.rank = rank
            by_station.setdefault(summary.station_id, []).append(rank)
        self._snapshot = (items, by_id, _Facts.build(self._triage, by_id), by_station)
        self._items, self._by_id = items, by_id

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None:
        with self._write:
            old = self._triage
            triage = {**old, **entries}
            items, by_id, facts, by_station = self._snapshot
            if len(entries) * 4 > len(triage):  # most of the book: rebuild
                facts = _Facts.build(triage, by_id)
            else:
                facts = facts.changed([(by_id[i].rank, old.get(i), e) for i, e in entries.items() if i in by_id])
            self._triage = triage
            self._snapshot = (items, by_id, facts, by_station)

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

    def _chunked(self, items: list[Summary]) -> list[tuple[str, int, str]]:
        """The search chunks of `items`, CHUNK records each (see `_build_chunk`)."""
        with self._chunk_lock:
            chunks = self._chunks if self._chunks_of is items else []
            # Whole chunks are kept; a chunk built while partial is rebuilt (records arrived).
            chunks = [chunk for chunk in chunks[: len(items) // CHUNK] if chunk[1] == CHUNK]
            for number in range(len(chunks), -(-len(items) // CHUNK)):
                chunks.append(_build_chunk(items[number * CHUNK : (number + 1) * CHUNK]))
            self._chunks, self._chunks_of = chunks, items
            return chunks

    def _search(self, items: list[Summary], q: str) -> list[int]:
        """Ranks (places in `items`) of the records whose text or receipt holds q, in
        order: one regex pass per chunk of records returns each matching record's place
        once (see MARK), instead of a Python step per record or per occurrence. A whole
        chunk never changes, so its places for a recent query are kept: the next page
        of a search, or a colleague's same search, reads only the newest chunk."""
        chunks = self._chunked(items)
        with self._chunk_lock:
            before = self._recent.pop(q, None)
        # The greedy tail runs to the record's end, so the next match starts in the next record.
        places = re.compile(re.escape(q) + "[^\x00]*\x03(.)", re.DOTALL).findall
        known = dict(zip(map(id, before[0]), before[1], strict=True)) if before else {}
        per_chunk: list[list[int]] = []
        for number, chunk in enumerate(chunks):
            found = known.get(id(chunk))
            if found is None:
                found = []
                if q in chunk[0]:  # str's own search first: most chunks of a rare word have no hit
                    base = number * CHUNK - PLACE
                    found = [base + ord(place) for place in places(chunk[0])]
            per_chunk.append(found)
        with self._chunk_lock:
            self._recent[q] = (chunks, per_chunk)  # the chunks themselves keep their ids true
            while len(self._recent) > RECENT_SEARCHES:
                self._recent.pop(next(iter(self._recent)))
        return [rank for found in per_chunk for rank in found]

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = ()) -> Page:
        items, by_id, facts, by_station = self._snapshot
        triage = self._triage
        facts_of = _station_facts(registry)
        stations = self._visible_stations(facts_of, sectors, filters.sector)
        if filters.station:
            stations = {filters.station} if stations is None or filters.station in stations else set()
        # Ranks, newest first, narrowed by sets where a filter allows (triage facts are
        # kept by rank; a search is one regex pass per chunk), then sliced to the page.
        chosen: frozenset[int] | set[int] | None = None

        def narrow(ranks: frozenset[int] | set[int]) -> None:
            nonlocal chosen
            chosen = ranks if chosen is None else chosen & ranks

        status = filters.status
        if status and status != "received":
            narrow(facts.status.get(status, frozenset()))
        if filters.overdue:
            narrow(set(facts.overdue(today)))
        if filters.weekly:
            narrow(facts.weekly)
        # Received days follow receive times, which order the list: a date range is a
        # range of ranks.
        low, high = 0, len(items)
        if filters.since:
            low = bisect.bisect_left(items, filters.since, key=attrgetter("day"))
        if filters.until:
            high = bisect.bisect_right(items, filters.until, key=attrgetter("day"))
        q = _UNSEARCHABLE.sub("", filters.q.lower())
        ranks: list[int] | range
        if q:
            hits = self._search(items, q)
            answered = [rank for rank, reply in facts.replies.items() if q in reply]
            answered += [by_id[i].rank for i in also_matching if i in by_id]  # sealed records' opened words
            if answered:
                hits = sorted(set(hits).union(answered))
            if chosen is not None:
                hits = list(filter(chosen.__contains__, hits))
            hits.reverse()
            ranks = hits
        elif chosen is not None:
            ranks = sorted(chosen, reverse=True)
        else:
            ranks = range(high - 1, low - 1, -1)
        if (low, high) != (0, len(items)) and not isinstance(ranks, range):
            ranks = [r for r in ranks if low <= r < high]
        if status == "received":
            handled = frozenset().union(*(ranks for name, ranks in facts.status.items() if name != "received"))
            ranks = list(filterfalse(handled.__contains__, ranks))  # at C speed
        if stations is not None:
            ranks = _at_stations(ranks, [by_station.get(station, ()) for station in stations], low, high)
        total = len(ranks)
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(filters.page, pages)
        shown = [items[r] for r in ranks[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
        return Page([self._row(s, triage.get(s.id), facts_of, today) for s in shown], total, pages, number)

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None:
        summary = self._by_id.get(submission_id)
        if summary is None:
            return None
        return self._row(summary, self._triage.get(submission_id), _station_facts(registry), today)

    def version(self) -> object:
        # Records are only ever added (an import grows the list too) and the triage
        # mapping is replaced whole on every change, never changed in place (see
        # `triage_changed`): equal counts and equal mappings mean the same inputs. The
        # mapping itself, not its id(), so a freed mapping's address cannot be mistaken.
        return (len(self._items), self._triage)

    def report_sets(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date) -> ReportRows:
        items, by_id, ranked, _ = self._snapshot
        triage = self._triage
        facts = _station_facts(registry)
        stations = self._visible_stations(facts, sectors)
        first, last = start.isoformat(), end.isoformat()
        # Receive and change times are UTC; a local day is at most a day off, so bounds
        # a day early cover the period (exact dates are compared below or by the caller).
        bound = (start - timedelta(days=1)).isoformat() if start > date.min else ""
        low = bisect.bisect_left(items, bound, key=attrgetter("received_at"))
        received = [s for s in items[low:] if first <= s.day <= last]
        changed = [by_id[i] for i, entry in triage.items() if (entry.get("updated_at") or "") >= bound and i in by_id]
        flagged = [items[r] for r in ranked.weekly]  # triage facts are kept by rank (see `_Facts`)
        overdue = [items[r] for r in ranked.overdue(today)]
        late = {s.id for s in overdue}
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
