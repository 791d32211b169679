"""The 群众说了算 figures as the office reads them: the matters a reader may count (a
department only the matters it sees, `dispatch.visibility`), and the boards and tables
of the weekly pack, the monthly report and /office/results."""

from __future__ import annotations

from datetime import date, timedelta

from sync_server.dispatch.visibility import seen_by
from sync_server.office.reports import Table
from sync_server.office.verdict_figures import Board, Matter, Span, count
from sync_server.office.verdict_tables import verdict_tables

__all__ = ["matters_seen", "month_span", "monthly_verdict_tables", "since_start", "week_span", "weekly_verdict_tables"]


def matters_seen(readside, department: str | None) -> list[Matter | tuple[str, str, dict]]:
    """Every triaged matter, or for a department (`pages.readable_department`: "" when its
    department is unknown, then none) those it sees now, as lead unit, 协办 or sender back."""
    # The read side's (station id, day, entry) triples are read as `Matter`s are (by
    # unpacking): not copied into one each, 100,000 of them on every build.
    if department is None:
        return readside.matters()
    if not department:
        return []
    return [m for m in readside.matters() if department in seen_by(m[2])]


def week_span(day: date, today: date) -> Span:
    first = day - timedelta(days=day.weekday())
    return Span("week", first, min(first + timedelta(days=6), today))


def month_span(year: int, month: int, today: date) -> Span:
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Span("month", first, min(last, today))


def since_start(last: date) -> Span:
    return Span("all", None, last)


def _boards(readside, registry, department: str | None, spans: list[Span]) -> list[Board]:
    return count(matters_seen(readside, department), registry, spans)


def weekly_verdict_tables(readside, registry, department: str | None, day: date, today: date) -> list[Table]:
    """The week's matters by post, sector, lead department and town; since the start by lead department."""
    week = week_span(day, today)
    this_week, ever = _boards(readside, registry, department, [week, since_start(week.last)])
    return verdict_tables(this_week) + verdict_tables(ever, ("department",))


def monthly_verdict_tables(readside, registry, department: str | None, year: int, month: int,
                           today: date) -> list[Table]:
    """The month's matters by every grouping; since the start by lead department and sector."""
    span = month_span(year, month, today)
    this_month, ever = _boards(readside, registry, department, [span, since_start(span.last)])
    return verdict_tables(this_month) + verdict_tables(ever, ("sector", "department"))
