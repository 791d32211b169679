"""The read side's filters and paging: a page of the inbox without a pass over every
record or triage entry.

Triage facts are kept by rank (a record's place in the ordered list, see `Facts`), so a
filter is a set of small integers, a date range a range of ranks, a search one regex
pass per chunk of records (`readside_search`), and a page a slice of what is left.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection
from datetime import date
from itertools import chain, filterfalse
from operator import attrgetter
from typing import Any

from minqing.registry import Registry
from sync_server.dispatch.visibility import seen_by
from sync_server.office.readside import Page
from sync_server.office.readside_search import UNSEARCHABLE, Summary
from sync_server.office.records import PAGE_SIZE, Filters, Row, list_status, parse_day
from sync_server.triage import is_overdue, new_entry

__all__ = ["FLAGS", "Facts", "Snapshot", "as_row", "every_row", "page", "station_facts", "visible_stations"]

# The triage entry's flags a list filters on (the filter's field has the same name).
FLAGS = ("dissatisfied", "citizen_added")


def _open_deadline(entry: dict[str, Any]) -> date | None:
    """The deadline that makes this entry overdue once passed (see `triage.is_overdue`)."""
    if entry["status"] in ("assigned", "in_progress") and entry.get("deadline") is not None:
        return date.fromisoformat(entry["deadline"])
    return None


class Facts:
    """Triage facts by rank (a record's place in the ordered list), so a filter is a set
    of small integers and a page a slice of them, never a pass over every record or
    entry: ranks by status, weekly ranks, open entries' deadlines in deadline order (the
    overdue are a prefix), folded public replies (for search), the ranks each
    department sees (`dispatch.visibility.seen_by`) and those whose old free-text lead is
    unmapped. Replaced whole, never changed in place: a reader in another thread may
    hold the old one."""

    __slots__ = ("status", "weekly", "deadlines", "replies", "departments", "unmapped", "flags")

    def __init__(self, status: dict[str, frozenset[int]] | None = None, weekly: frozenset[int] = frozenset(),
                 deadlines: list[tuple[int, int]] | None = None, replies: dict[int, str] | None = None,
                 departments: dict[str, frozenset[int]] | None = None, unmapped: frozenset[int] = frozenset(),
                 flags: dict[str, frozenset[int]] | None = None) -> None:
        self.status = status or {}
        self.weekly = weekly
        self.deadlines = deadlines or []  # (deadline's ordinal, rank), sorted
        self.replies = replies or {}
        self.departments = departments or {}
        self.unmapped = unmapped
        self.flags = flags or {}  # FLAGS name: the ranks whose entry has it set

    @staticmethod
    def _of(entry: dict[str, Any]) -> tuple[str, bool, int | None, str]:
        deadline = _open_deadline(entry)
        # Merged duplicates are a status of their own here (see `records.list_status`).
        return (list_status(entry), bool(entry.get("weekly")), deadline.toordinal() if deadline else None,
                (entry.get("public_reply") or "").lower())

    @classmethod
    def build(cls, triage: dict[str, dict[str, Any]], by_id: dict[str, Summary]) -> Facts:
        return cls().changed([(by_id[i].rank, None, e) for i, e in triage.items() if i in by_id])

    def changed(self, changes: list[tuple[int, dict[str, Any] | None, dict[str, Any]]]) -> Facts:
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
        return Facts(merged, frozenset(weekly), deadlines, replies, *self._dispatch_changed(changes),
                     self._flags_changed(changes))

    def _flags_changed(self, changes) -> dict[str, frozenset[int]]:
        """The ranks flagged 群众不满意 and 群众已补充 after `changes` (see FLAGS)."""
        flags = {name: set(self.flags.get(name, ())) for name in FLAGS}
        for rank, _, after in changes:
            for name, ranks in flags.items():
                (ranks.add if after.get(name) else ranks.discard)(rank)
        return {name: frozenset(ranks) for name, ranks in flags.items()}

    def _dispatch_changed(self, changes) -> tuple[dict[str, frozenset[int]], frozenset[int]]:
        """The ranks each department sees, and the unmapped leads, after `changes`."""
        departments: dict[str, set[int]] = {}
        unmapped = set(self.unmapped)

        def seen(department: str) -> set[int]:
            found = departments.get(department)
            if found is None:
                found = departments[department] = set(self.departments.get(department, ()))
            return found

        for rank, before, after in changes:
            for department in seen_by(before):
                seen(department).discard(rank)
            for department in seen_by(after):
                seen(department).add(rank)
            (unmapped.add if after.get("lead_unmapped") else unmapped.discard)(rank)
        by_department = dict(self.departments)
        by_department.update((name, frozenset(ranks)) for name, ranks in departments.items())
        return by_department, frozenset(unmapped)

    def overdue(self, today: date) -> list[int]:
        """Ranks of open entries whose deadline has passed (see `triage.is_overdue`)."""
        end = bisect.bisect_left(self.deadlines, (today.toordinal(),))
        return [rank for _, rank in self.deadlines[:end]]

    def due_between(self, first: date, last: date) -> list[int]:
        """Ranks of open entries whose deadline falls from `first` to `last` (临期)."""
        start = bisect.bisect_left(self.deadlines, (first.toordinal(),))
        end = bisect.bisect_left(self.deadlines, (last.toordinal() + 1,))
        return [rank for _, rank in self.deadlines[start:end]]


# The ordered list, summaries by id, triage facts by rank and each station's ranks in
# order, read in one go so that a reader's parts belong together (see `MemoryReadSide`).
Snapshot = tuple[list[Summary], dict[str, Summary], Facts, dict[str, list[int]]]


def station_facts(registry: Registry) -> dict[str, tuple[str, str, str]]:
    facts = {}
    for station in registry.stations:
        try:
            sector = registry.sector(station.sector)
            facts[station.id] = (station.name, sector.id, sector.name)
        except (KeyError, LookupError):
            facts[station.id] = (station.name, "", "")
    return facts


def visible_stations(facts: dict, sectors: frozenset[str] | None, only_sector: str = "") -> set[str] | None:
    if sectors is None and not only_sector:
        return None
    return {sid for sid, (_, sector, _) in facts.items()
            if (sectors is None or sector in sectors) and (not only_sector or sector == only_sector)}


def as_row(summary: Summary, entry: dict | None, facts: dict, today: date) -> Row:
    entry = entry or new_entry(summary.received_at)
    station_name, sector_id, sector_name = facts.get(summary.station_id, (summary.station_id, "", ""))
    return Row(record=summary.as_record(), triage=entry, station_name=station_name, sector_id=sector_id,
               sector_name=sector_name, overdue=is_overdue(entry, today))


def _at_stations(ranks: list[int] | range, lists: list, low: int, high: int) -> list[int]:
    """`ranks` (newest first) narrowed to the stations whose ranks are `lists`."""
    if isinstance(ranks, range):  # only the stations' own records, within their range
        return sorted((r for r in chain.from_iterable(lists) if low <= r < high), reverse=True)
    allowed = set(chain.from_iterable(lists))
    return list(filter(allowed.__contains__, ranks))


def _chosen(facts: Facts, triage: dict[str, dict[str, Any]], items: list[Summary], filters: Filters, today: date,
            department: str | None) -> frozenset[int] | set[int] | None:
    """The ranks the triage filters (and a department reader's own matters) allow, or
    None where no set narrows them."""
    sets: list[frozenset[int] | set[int]] = []
    if department is not None:
        sets.append(facts.departments.get(department, frozenset()))
    if filters.status and filters.status != "received":
        sets.append(facts.status.get(filters.status, frozenset()))
    if filters.overdue:
        sets.append(set(facts.overdue(today)))
    if filters.weekly:
        sets.append(facts.weekly)
    sets.extend(facts.flags.get(name, frozenset()) for name in FLAGS if getattr(filters, name))
    if filters.due_soon:
        last = parse_day(filters.due_until)
        sets.append(set(facts.due_between(today, last)) if last else set())
    if filters.department:
        # The lead unit (承办单位) only: of the ranks the department sees, those it leads.
        sees = facts.departments.get(filters.department, frozenset())
        sets.append({r for r in sees if (triage.get(items[r].id) or {}).get("department") == filters.department})
    if not sets:
        return None
    chosen = sets[0]
    for ranks in sets[1:]:
        chosen = chosen & ranks
    return chosen


def page(snapshot: Snapshot, triage: dict[str, dict[str, Any]], search: Callable[[list[Summary], str], list[int]],
         filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
         also_matching: Collection[str] = (), department: str | None = None) -> Page:
    """`ReadSide.page` over one snapshot and the triage entries read with it; `search`
    gives the ranks whose words hold a query (see `WordSearch.ranks`)."""
    items = snapshot[0]
    facts_of = station_facts(registry)
    ranks = _matching_ranks(snapshot, triage, search, filters, sectors, facts_of, today, also_matching, department)
    total = len(ranks)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(filters.page, pages)
    shown = [items[r] for r in ranks[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
    return Page([as_row(s, triage.get(s.id), facts_of, today) for s in shown], total, pages, number)


def every_row(snapshot: Snapshot, triage: dict[str, dict[str, Any]], search: Callable[[list[Summary], str], list[int]],
              filters: Filters, sectors: frozenset[str] | None, registry: Registry, today: date,
              also_matching: Collection[str] = (), department: str | None = None) -> list[Row]:
    """`ReadSide.rows`: what `page` pages through, every row of it, newest first."""
    items = snapshot[0]
    facts_of = station_facts(registry)
    ranks = _matching_ranks(snapshot, triage, search, filters, sectors, facts_of, today, also_matching, department)
    return [as_row(s, triage.get(s.id), facts_of, today) for s in map(items.__getitem__, ranks)]


def _matching_ranks(snapshot: Snapshot, triage: dict[str, dict[str, Any]],
                    search: Callable[[list[Summary], str], list[int]], filters: Filters,
                    sectors: frozenset[str] | None, facts_of: dict, today: date,
                    also_matching: Collection[str], department: str | None) -> list[int] | range:
    """The ranks of the records `filters` matches within `sectors` (or, for a
    department, among the matters dispatched to it), newest first."""
    items, by_id, facts, by_station = snapshot
    # A department reads the matters dispatched to it, whatever their sector.
    stations = visible_stations(facts_of, None if department is not None else sectors, filters.sector)
    if filters.station:
        stations = {filters.station} if stations is None or filters.station in stations else set()
    # Ranks, newest first, narrowed by sets where a filter allows (triage facts are
    # kept by rank; a search is one regex pass per chunk), then sliced to the page.
    chosen = _chosen(facts, triage, items, filters, today, department)
    status = filters.status
    # Received days follow receive times, which order the list: a date range is a
    # range of ranks.
    low, high = 0, len(items)
    if filters.since:
        low = bisect.bisect_left(items, filters.since, key=attrgetter("day"))
    if filters.until:
        high = bisect.bisect_right(items, filters.until, key=attrgetter("day"))
    q = UNSEARCHABLE.sub("", filters.q.lower())
    ranks: list[int] | range
    if q:
        hits = search(items, q)
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
    return ranks
