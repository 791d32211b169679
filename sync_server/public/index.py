"""The public read model: publications and each post's 满意率, kept in step with the
triage log (its `on_change`, after every durable write, whoever wrote) the way the
office's read side is, so a publication or a withdrawal answers at once.

Readers take no lock: a writer swaps in a new ordered tuple and new counts, a reader
uses the ones it picked up. Only the publication's own fields are kept (staff words),
so nothing private can leak from here even by mistake in a template.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GOOD", "PAGE_SIZE", "PublicIndex", "PublicItem", "PublicPage", "Rate"]

PAGE_SIZE = 20
# The 12345 definition: 满意 and 基本满意 both count as satisfied.
GOOD = frozenset({"satisfied", "fair"})
# Statuses a matter may be public in; merged and declined never are, whatever a stale
# entry says (design22 §2: publish is from closed or followed_up only).
_PUBLIC_STATUSES = frozenset({"closed", "followed_up"})


@dataclass(frozen=True, slots=True)
class PublicItem:
    id: str
    title: str
    done: str
    month: str  # YYYY-MM, never a day
    station_id: str
    sector: str
    published_at: str


@dataclass(frozen=True, slots=True)
class Rate:
    good: int
    verdicts: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.good / self.verdicts) if self.verdicts else None


@dataclass(frozen=True, slots=True)
class PublicPage:
    items: list[PublicItem]
    total: int
    page: int
    pages: int


def _month(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return text[:7] if len(text) >= 7 and text[4:5] == "-" and text[:4].isdigit() and text[5:7].isdigit() else ""


def published(submission_id: str, entry: Mapping[str, Any]) -> PublicItem | None:
    """The public item of an entry, or None when it is not (or no longer) public."""
    publication = entry.get("publication")
    if not isinstance(publication, Mapping) or entry.get("status") not in _PUBLIC_STATUSES:
        return None
    if entry.get("outcome") == "merged" or entry.get("merged_into"):
        return None
    title = str(publication.get("title") or "").strip()
    if not title:
        return None
    return PublicItem(id=submission_id, title=title, done=str(publication.get("done") or ""),
                      month=_month(publication.get("month")), station_id=str(publication.get("station_id") or ""),
                      sector=str(publication.get("sector") or ""), published_at=str(publication.get("published_at") or ""))


def _verdict_good(entry: Mapping[str, Any]) -> bool | None:
    verdict = entry.get("verdict")
    if not isinstance(verdict, Mapping) or entry.get("outcome") == "merged":
        return None
    choice = verdict.get("choice")
    if choice not in ("satisfied", "fair", "dissatisfied"):
        return None
    return choice in GOOD


class PublicIndex:
    """`station_of(id)` names the post of each matter (the office read side knows it);
    a verdict counts for the post its matter was given at, published or not.
    `sector_of(station)` names a post's sector: a publication that does not say its
    post or sector (an office form that left them out) takes the matter's own."""

    def __init__(self, station_of: Callable[[str], str | None],
                 sector_of: Callable[[str], str | None] = lambda station: None) -> None:
        self._station_of = station_of
        self._sector_of = sector_of
        self._write = threading.Lock()
        self._loaded = threading.Event()
        self._pending: dict[str, Mapping[str, Any]] = {}
        self._items: dict[str, PublicItem] = {}
        self._ordered: tuple[PublicItem, ...] = ()
        self._verdicts: dict[str, tuple[str, bool]] = {}  # id -> (station, good)
        self._rates: dict[str, Rate] = {}

    def load(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        """Read every entry once the office index can name posts; changes that came
        meanwhile are newer than the log read at start and win."""
        with self._write:
            merged = {**entries, **self._pending}
            self._pending = {}
            self._apply(merged)
            self._loaded.set()

    def ready(self) -> bool:
        return self._loaded.is_set()

    def triage_changed(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        with self._write:
            if not self._loaded.is_set():
                self._pending.update(entries)
                return
            self._apply(entries)

    def _apply(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        items, verdicts = dict(self._items), self._verdicts
        for submission_id, entry in entries.items():
            item = self._completed(published(submission_id, entry))
            if item is None:
                items.pop(submission_id, None)
            else:
                items[submission_id] = item
            good = _verdict_good(entry)
            if good is None:
                verdicts.pop(submission_id, None)
                continue
            station = item.station_id if item is not None else self._station_of(submission_id)
            if station:
                verdicts[submission_id] = (station, good)
        counts: dict[str, list[int]] = {}
        for station, good in verdicts.values():
            pair = counts.setdefault(station, [0, 0])
            pair[0] += good
            pair[1] += 1
        self._rates = {station: Rate(good, total) for station, (good, total) in counts.items()}
        self._items = items
        self._ordered = tuple(sorted(items.values(), key=lambda i: (i.published_at, i.id), reverse=True))

    def _completed(self, item: PublicItem | None) -> PublicItem | None:
        if item is None or (item.station_id and item.sector):
            return item
        station = item.station_id or self._station_of(item.id) or ""
        sector = item.sector or (self._sector_of(station) if station else "") or ""
        return PublicItem(item.id, item.title, item.done, item.month, station, sector, item.published_at)

    def rate(self, station_id: str) -> Rate:
        return self._rates.get(station_id, Rate(0, 0))

    def months(self) -> list[str]:
        return sorted({i.month for i in self._ordered if i.month}, reverse=True)

    def page(self, station: str = "", sector: str = "", month: str = "", page: int = 1,
             size: int = PAGE_SIZE) -> PublicPage:
        ordered = self._ordered  # one snapshot for the whole answer
        chosen = [i for i in ordered
                  if (not station or i.station_id == station) and (not sector or i.sector == sector)
                  and (not month or i.month == month)]
        pages = max(1, -(-len(chosen) // size))
        page = min(max(1, page), pages)
        return PublicPage(chosen[(page - 1) * size: page * size], len(chosen), page, pages)
