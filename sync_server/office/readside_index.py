"""The office's read side in this process's memory (`MemoryReadSide`, see `readside`):
the ordered list of record summaries, kept up to date as records arrive and as triage
changes.

Readers take no lock, so an office query never holds up a citizen's upload: writers
(the intake's worker thread, an office action) either append in place, which a reader
walking the list by index tolerates, or swap in a new container.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from minqing.registry import Registry
from sync_server.office import readside_filters, readside_reports
from sync_server.office.readside import Page, ReportRows, no_cyclic_gc
from sync_server.office.readside_filters import Facts, Snapshot, as_row, station_facts
from sync_server.office.readside_search import SUMMARY_KEY, Summary, WordSearch, chunks_still_in_place, summarise
from sync_server.office.records import Filters, Row

__all__ = ["MemoryReadSide"]


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
                for n, summary in enumerate(late):
                    summary.order = len(summaries) + n
                summaries += late
                stored = list(summaries)
                summaries.sort(key=SUMMARY_KEY)
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
        # This runs in the intake's writer thread, on the upload's path: the usual case
        # (newer records) appends in place, which a reader iterating the list, or
        # looking ids up, tolerates; only an out-of-order import copies the list.
        with self._write:
            by_id = self._by_id
            fresh = [Summary(r, len(by_id) + n) for n, r in enumerate(records) if r["id"] not in by_id]
            if not fresh:
                return
            fresh.sort(key=SUMMARY_KEY)
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
                    bisect.insort(items, summary, key=SUMMARY_KEY)
                self._renumber(items, {s.id: s for s in items})

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

    def may_have_phone(self, submission_id: str) -> bool:
        summary = self._by_id.get(submission_id)
        return summary is None or summary.phone

    def page(self, filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
             also_matching: Collection[str] = ()) -> Page:
        return readside_filters.page(self._snapshot, self._triage, self._words.ranks, filters, sectors, registry, today,
                                     also_matching)

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
                    today: date) -> ReportRows:
        return readside_reports.report_sets(self._snapshot, self._triage, sectors, start, end, registry, today)
