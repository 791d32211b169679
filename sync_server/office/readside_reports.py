"""The read side's report rows: only what a meeting report of a period needs (see
`ReportRows`), found by receive time, change time and the triage facts kept by rank,
never by reading every triaged record."""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

from minqing.registry import Registry
from sync_server.office.readside import ReportRows, no_cyclic_gc
from sync_server.office.readside_filters import Snapshot, station_facts, visible_stations
from sync_server.office.readside_search import Summary
from sync_server.office.records import Row
from sync_server.triage import new_entry

__all__ = ["report_sets"]


def report_sets(snapshot: Snapshot, triage: dict[str, dict[str, Any]], sectors: frozenset[str] | None, start: date,
                end: date, registry: Registry, today: date, department: str | None = None) -> ReportRows:
    """`ReadSide.report_sets` over one snapshot and the triage entries read with it;
    for a department, only the matters it sees (`readside.ReadSide.page` says so too)."""
    items, by_id, ranked, _ = snapshot
    facts = station_facts(registry)
    stations = visible_stations(facts, None if department is not None else sectors)
    seen = ranked.departments.get(department, frozenset()) if department is not None else None
    first, last = start.isoformat(), end.isoformat()
    # Receive and change times are UTC; a local day is at most a day off, so bounds
    # a day early cover the period (exact dates are compared below or by the caller).
    bound = (start - timedelta(days=1)).isoformat() if start > date.min else ""
    low = bisect.bisect_left(items, bound, key=attrgetter("received_at"))
    received = [s for s in items[low:] if first <= s.day <= last]
    changed = [by_id[i] for i, entry in triage.items() if (entry.get("updated_at") or "") >= bound and i in by_id]
    flagged = [items[r] for r in ranked.weekly]  # triage facts are kept by rank (see `Facts`)
    overdue = [items[r] for r in ranked.overdue(today)]
    unhappy = [items[r] for r in ranked.flags.get("dissatisfied", ())]
    late = {s.id for s in overdue}
    made: dict[str, Row] = {}

    def rows(summaries: list[Summary]) -> list[Row]:
        chosen = [s for s in summaries if (stations is None or s.station_id in stations)
                  and (seen is None or s.rank in seen)]
        chosen.sort(key=attrgetter("rank"), reverse=True)
        out = []
        for summary in chosen:
            row = made.get(summary.id)
            if row is None:
                # As `as_row`, with overdue read from the set just made: thousands of
                # rows, and parsing each deadline again showed in the profile.
                entry = triage.get(summary.id) or new_entry(summary.received_at)
                station_name, sector_id, sector_name = facts.get(summary.station_id, (summary.station_id, "", ""))
                row = made[summary.id] = Row(record=summary.as_record(), triage=entry, station_name=station_name,
                                             sector_id=sector_id, sector_name=sector_name,
                                             overdue=summary.id in late)
            out.append(row)
        return out

    with no_cyclic_gc():
        return ReportRows(rows(received), rows(changed), rows(flagged), rows(overdue), rows(unhappy))
