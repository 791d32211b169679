"""The office's view of the inbox: each submission joined with its station, sector and
triage entry, filtered, searched and paged. Pure functions over plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from minqing.registry import Registry
from sync_server.dispatch.visibility import sees_matter
from sync_server.store.accounts import Account
from sync_server.triage import FIRST_YEAR, LAST_YEAR, OUTCOMES, STATUSES, is_overdue, new_entry

__all__ = ["CHINA", "LIST_STATUSES", "Filters", "Row", "due_soon", "join", "list_status", "local_date", "parse_day", "parse_month",
           "select", "visible_to"]

CHINA = timezone(timedelta(hours=8))
PAGE_SIZE = 25
# What the office lists and counts a record as. A duplicate merged away is stored as
# closed with outcome "merged", but it is no matter solved: lists, filters and reports
# show it as 已合并, apart from 已办结.
LIST_STATUSES = {**STATUSES, "merged": OUTCOMES["merged"]}


def list_status(entry: dict[str, Any]) -> str:
    """The key of LIST_STATUSES a triage entry is listed under."""
    return "merged" if entry.get("outcome") == "merged" else entry["status"]


@dataclass(frozen=True)
class Row:
    record: dict[str, Any]
    triage: dict[str, Any]
    station_name: str
    sector_id: str
    sector_name: str
    overdue: bool

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def status_label(self) -> str:
        return LIST_STATUSES[list_status(self.triage)]


# Reports and filters take ISO dates only, within years an office can mean (the same
# years a deadline may have): a far date (9999-12-31) would overflow the week's arithmetic.
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})\Z", re.ASCII)


def parse_day(text: str) -> date | None:
    """A date typed as YYYY-MM-DD between 2000 and 2100, or None."""
    if not isinstance(text, str) or not _DAY.match(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse_month(text: str) -> tuple[int, int] | None:
    match = _MONTH.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    return (year, month) if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 else None


def local_date(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(CHINA).date()


def join(records, triage: dict[str, dict], registry: Registry, today: date) -> list[Row]:
    rows, order = [], []
    for position, record in enumerate(records):
        entry = triage.get(record["id"]) or new_entry(record["received_at"])
        station = registry.station(record["station_id"])
        sector = registry.sector(station.sector) if station else None
        rows.append(Row(
            record=record, triage=entry,
            station_name=station.name if station else record["station_id"],
            sector_id=sector.id if sector else "", sector_name=sector.name if sector else "",
            overdue=is_overdue(entry, today),
        ))
        order.append((record["received_at"], position))
    # Newest first; within one batch (one receive time) the later record first too.
    return [row for _, row in sorted(zip(order, rows, strict=True), key=lambda pair: pair[0], reverse=True)]


def visible_to(account: Account, rows: list[Row]) -> list[Row]:
    return [row for row in rows if sees_matter(account, row.triage)]


def due_soon(row: Row, until: str) -> bool:
    """临期: still open and not yet overdue, its deadline on or before `until`."""
    deadline = row.triage.get("deadline")
    return (row.triage["status"] in ("assigned", "in_progress") and deadline is not None and not row.overdue
            and deadline <= until)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    sector: str = ""
    station: str = ""
    since: str = ""
    until: str = ""
    overdue: bool = False
    weekly: bool = False
    q: str = ""
    page: int = 1
    department: str = ""  # the lead department's id (承办单位)
    due_soon: bool = False  # 临期: open, deadline from today to `due_until`
    due_until: str = ""  # the last day of the 临期 window (today + the registry's warn_days)
    dissatisfied: bool = False  # flagged 群众不满意 (a 不满意 verdict staff have not yet answered)
    citizen_added: bool = False  # flagged 群众已补充 (an answer staff have not yet read)

    @classmethod
    def from_query(cls, query, due_until: str = "") -> Filters:
        """The filters a list's query asks for; `due_until` is the 临期 window's last day."""
        def valid_date(text: str) -> str:
            day = parse_day(text)
            return day.isoformat() if day else ""

        try:
            page = max(1, int(query.get("page", "1")[:9]))
        except ValueError:
            page = 1
        return cls(
            status=query.get("status", "") if query.get("status", "") in LIST_STATUSES else "",
            sector=query.get("sector", "")[:48], station=query.get("station", "")[:48],
            since=valid_date(query.get("since", "")), until=valid_date(query.get("until", "")),
            overdue=query.get("overdue") == "1", weekly=query.get("weekly") == "1",
            q=query.get("q", "").strip()[:100], page=page,
            department=query.get("department", "")[:64], due_soon=query.get("due_soon") == "1", due_until=due_until,
            dissatisfied=query.get("dissatisfied") == "1", citizen_added=query.get("citizen_added") == "1",
        )

    def matches(self, row: Row) -> bool:
        day = local_date(row.record["received_at"]).isoformat()
        text = " ".join((row.record["feeling"], row.record["suggestion"], row.triage["public_reply"], row.record["receipt"]))
        return (
            (not self.status or list_status(row.triage) == self.status)
            and (not self.sector or row.sector_id == self.sector)
            and (not self.station or row.record["station_id"] == self.station)
            and (not self.since or day >= self.since)
            and (not self.until or day <= self.until)
            and (not self.overdue or row.overdue)
            and (not self.weekly or row.triage["weekly"])
            and (not self.dissatisfied or bool(row.triage.get("dissatisfied")))
            and (not self.citizen_added or bool(row.triage.get("citizen_added")))
            and (not self.department or row.triage.get("department") == self.department)
            and (not self.due_soon or due_soon(row, self.due_until))
            # Chinese has no word boundaries: a plain substring search is what people expect.
            and (not self.q or self.q.lower() in text.lower())
        )


def select(rows: list[Row], filters: Filters) -> tuple[list[Row], int]:
    """One page of matching rows, newest first, and the number of pages."""
    matching = [row for row in rows if filters.matches(row)]
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    start = (min(filters.page, pages) - 1) * PAGE_SIZE
    return matching[start : start + PAGE_SIZE], pages
