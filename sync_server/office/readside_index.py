"""The office's read side in this process's memory (`MemoryReadSide`, see `readside`):
the ordered list of record summaries, kept up to date as records arrive and as triage
changes.

Readers take no lock, so an office query never holds up a citizen's upload: writers
(the intake's worker thread, an office action) either append in place, which a reader
walking the list by index tolerates, or swap in a new container.

Within a minute the list keeps no order of arrival: the store keeps only the minute
(see `store.arrival`), and a record arriving live is put at a random place among the
records of its minute already listed, as the store puts it in its segment, so the
records of one upload sit no closer together than any two of their minute. The place,
once given, is kept while the server runs (pages stay put); after a restart the list
follows the store's order, which is as random.
"""

from __future__ import annotations

import bisect
import copy
import secrets
import threading
from collections.abc import Collection, Iterable
from datetime import date
from operator import attrgetter
from typing import Any

from minqing.registry import Registry
from sync_server.office import readside_filters, readside_reports
from sync_server.office.department_queue import touches
from sync_server.office.readside import Page, ReportRows, no_cyclic_gc
from sync_server.office.readside_filters import Facts, Snapshot, as_row, station_facts
from sync_server.office.readside_search import SUMMARY_KEY, Summary, WordSearch, chunks_still_in_place, summarise
from sync_server.office.records import Filters, Row
from sync_server.triage_terms import OPEN

__all__ = ["MemoryReadSide"]

_RECEIVED = attrgetter("received_at")


def _placed(ordered: list[Summary], fresh: list[Summary]) -> list[Summary]:
    """`ordered` (by receive time) with each fresh summary put at a uniformly random place
    among those of its receive time: one after another, so the order of each minute is a
    uniformly random one, whatever the order the fresh came in."""
    for summary in fresh:
        low = bisect.bisect_left(ordered, summary.received_at, key=_RECEIVED)
        high = bisect.bisect_right(ordered, summary.received_at, lo=low, key=_RECEIVED)
        ordered.insert(low + secrets.randbelow(high - low + 1), summary)
    return ordered


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
        self._words = WordSearch()
        self._pending: list[Summary] = []
        self._fed_chunks: list[tuple[str, int, str]] = []
        # Triage facts by rank (see `Facts`), in the snapshot beside the list they index.
        # Ranks by station, in order: a sector or station filter reads its own records only.
        # Appended in place as records arrive, like the list (a reader bounds what it reads).
        self._snapshot: Snapshot = (self._items, self._by_id, Facts(), {})
        if records is not None:
            self.load(records, triage or {})

    def feed(self, records: Iterable[dict[str, Any]]) -> None:
        """Summarise stored records as the inbox reads them at open (its `on_open`), so
        the records are read once for both; `finish` then makes the index answer."""
        summarise(records, self._pending, self._fed_chunks)

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
                stored = list(summaries)
                summaries.sort(key=SUMMARY_KEY)  # in the store's order within a minute
                summaries = _placed(summaries, late)  # arrived meanwhile: not after the rest
                # The chunks made while feeding stay while their records kept their places.
                kept = chunks_still_in_place(fed, stored, summaries)
                del stored
                # Changes stored while loading are newer than the book read at start.
                self._triage = {**triage, **self._triage}
                self._renumber(summaries, {s.id: s for s in summaries})
            self._words.start(fed[:kept], summaries)
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

    def failed(self) -> bool:
        """It could not be built: office pages show an error, and health says not ok."""
        return self._failure is not None

    def wait_ready(self) -> None:
        self._loaded.wait()
        if self._failure is not None:
            raise RuntimeError("the office index could not be built") from self._failure

    # -- keeping up ----------------------------------------------------------------

    def records_added(self, records: Iterable[dict[str, Any]]) -> None:
        # This runs in the intake's writer thread, on the upload's path: the first upload
        # of a minute appends in place, which a reader iterating the list, or looking ids
        # up, tolerates; a later one of the same minute (or an import) copies the list
        # and the minute's summaries (see `_insert`).
        with self._write:
            by_id = self._by_id
            fresh = [Summary(r, 0) for r in records if r["id"] not in by_id]
            if not fresh:
                return
            items = self._items
            oldest = min(s.received_at for s in fresh)
            if items and items[-1].received_at >= oldest:
                # Among records listed already (its minute's, or an import's older ones).
                self._insert(items, fresh, bisect.bisect_left(items, oldest, key=_RECEIVED))
                return
            fresh = _placed([], fresh)  # a new minute: the upload's own order is not kept
            for n, summary in enumerate(fresh):
                summary.rank = summary.order = len(items) + n
            items.extend(fresh)  # before the ids: a reader finding an id finds its place
            by_id.update((s.id, s) for s in fresh)
            _, _, facts, by_station = self._snapshot
            for summary in fresh:
                by_station.setdefault(summary.station_id, []).append(summary.rank)
            triage = self._triage
            known = [(s.rank, None, triage[s.id]) for s in fresh if s.id in triage]
            if known:
                self._snapshot = (items, by_id, facts.changed(known), by_station)

    def _insert(self, items: list[Summary], fresh: list[Summary], start: int) -> None:
        """Under the write lock: put `fresh` among the listed records from `start` on (see
        the module's doc), in new containers. The records before `start` keep their
        summaries, ranks, facts and search chunks; those after are copied, so the ranks a
        reader holds stay true for its old list. The cost is the tail, not the list: a
        minute's records, unless an import brings older ones."""
        tail = _placed([copy.copy(s) for s in items[start:]], fresh)
        for n, summary in enumerate(tail):
            summary.rank = summary.order = start + n
        moved = items[:start] + tail
        by_id = dict(self._by_id)
        by_id.update((s.id, s) for s in tail)
        _, _, facts, by_station = self._snapshot
        stations = {station: ranks[:bisect.bisect_left(ranks, start)] for station, ranks in by_station.items()}
        for summary in tail:
            stations.setdefault(summary.station_id, []).append(summary.rank)
        if any(s.id in self._triage for s in tail):  # facts name ranks that moved
            facts = Facts.build(self._triage, by_id)
        self._words.moved(items, moved, start)
        self._snapshot = (moved, by_id, facts, stations)
        self._items, self._by_id = moved, by_id

    def _renumber(self, items: list[Summary], by_id: dict[str, Summary]) -> None:
        """Make `items` the ordered list: each summary's `rank` is its index, so a page of
        chosen records is a sort of small integers, not of receive times."""
        by_station: dict[str, list[int]] = {}
        for rank, summary in enumerate(items):
            summary.rank = rank
            by_station.setdefault(summary.station_id, []).append(rank)
        self._snapshot = (items, by_id, Facts.build(self._triage, by_id), by_station)
        self._items, self._by_id = items, by_id

    def triage_changed(self, entries: dict[str, dict[str, Any]]) -> None:
        with self._write:
            old = self._triage
            triage = {**old, **entries}
            items, by_id, facts, by_station = self._snapshot
            if len(entries) * 4 > len(triage):  # most of the book: rebuild
                facts = Facts.build(triage, by_id)
            else:
                facts = facts.changed([(by_id[i].rank, old.get(i), e) for i, e in entries.items() if i in by_id])
            self._triage = triage
            self._snapshot = (items, by_id, facts, by_station)

    # -- reading -------------------------------------------------------------------

    def count(self) -> int:
        return len(self._items)

    def station_of(self, submission_id: str) -> str | None:
        """The post a record was given at (the public 满意率 counts verdicts by post)."""
        summary = self._by_id.get(submission_id)
        return summary.station_id if summary is not None else None

    def may_have_phone(self, submission_id: str) -> bool:
        summary = self._by_id.get(submission_id)
        return summary is None or summary.phone

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = (), department: str | None = None) -> Page:
        return readside_filters.page(self._snapshot, self._triage, self._words.ranks, filters, sectors, registry, today,
                                     also_matching, department)

    def rows(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = (), department: str | None = None) -> list[Row]:
        return readside_filters.every_row(self._snapshot, self._triage, self._words.ranks, filters, sectors, registry,
                                          today, also_matching, department)

    def department_entries(self, department: str) -> list[tuple[str, dict[str, Any]]]:
        # The department's ranks (lead, 协办 or sent back), not a pass over every entry;
        # each entry checked again, as a snapshot and the mapping are read one after the other.
        items, _, facts, _ = self._snapshot
        triage = self._triage  # one mapping: replaced whole on change
        found = []
        for rank in facts.departments.get(department, ()):
            entry = triage.get(items[rank].id)
            if entry is not None and touches(entry, department):
                found.append((items[rank].id, entry))
        return found

    def entries_with_status(self, statuses: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
        # The status sets by rank (see `Facts`), not a pass over every entry.
        items, _, facts, _ = self._snapshot
        triage = self._triage
        ranks = sorted(set().union(*(facts.status.get(name, ()) for name in statuses)), reverse=True)
        found = []
        for rank in ranks:
            entry = triage.get(items[rank].id)
            if entry is not None:
                found.append((items[rank].id, entry))
        return found

    def matters(self) -> list[tuple[str, str, dict[str, Any]]]:
        _, by_id, _, _ = self._snapshot
        found = []
        for submission_id, entry in self._triage.items():  # one mapping: replaced whole on change
            summary = by_id.get(submission_id)
            if summary is not None:
                found.append((summary.station_id, summary.day, entry))
        return found

    def row(self, submission_id: str, registry: Registry, today: date) -> Row | None:
        summary = self._by_id.get(submission_id)
        if summary is None:
            return None
        return as_row(summary, self._triage.get(submission_id), station_facts(registry), today)

    def version(self) -> object:
        # Records are only ever added (an import grows the list too) and the triage
        # mapping is replaced whole on every change, never changed in place (see
        # `triage_changed`): equal counts and equal mappings mean the same inputs. The
        # mapping itself, not its id(), so a freed mapping's address cannot be mistaken.
        return (len(self._items), self._triage)

    def report_sets(self, sectors: frozenset[str] | None, start: date, end: date, registry: Registry,
                    today: date, department: str | None = None) -> ReportRows:
        return readside_reports.report_sets(self._snapshot, self._triage, sectors, start, end, registry, today,
                                            department)

    def unmapped_leads(self) -> int:
        """How many matters an older version dispatched to a 牵头部门 no department matches."""
        return len(self._snapshot[2].unmapped)

    def orphaned(self, known: Collection[str]) -> int:
        """How many open matters are dispatched to a department id the registry no longer
        lists: no account can act on them until staff 改派 them (a registry edit must not
        leave them waiting for nobody). Reads the per-department sets, not every entry."""
        items, _, facts, _ = self._snapshot
        triage = self._triage
        found = 0
        for department, ranks in facts.departments.items():
            if department in known:
                continue
            for rank in ranks:
                entry = triage.get(items[rank].id)
                found += entry is not None and entry.get("department") == department and entry["status"] in OPEN
        return found
