"""Deadlines of a dispatched matter. Working days are Monday to Friday, with no holiday
calendar: a 签收 due over a public holiday is due a little early, never late."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["CHINA", "add_working_days", "default_deadline", "local_day"]

# The office's clock: a deadline is a day in the district, whatever the server's zone.
CHINA = timezone(timedelta(hours=8))


def local_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def add_working_days(moment: datetime, days: int) -> datetime:
    """The end (23:59:59 local) of the `days`-th working day after `moment`'s day: a
    matter dispatched on Friday afternoon with one working day is due Monday night."""
    day = local_day(moment)
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CHINA)


def default_deadline(today: date, track: str, rules) -> date:
    """Today plus the registry's calendar days for the track (`DispatchRules.deadline_days`)."""
    return today + timedelta(days=rules.deadline_days[track])
