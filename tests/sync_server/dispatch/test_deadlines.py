"""Working days are Monday to Friday, counted in the district's day."""

from __future__ import annotations

from datetime import date, datetime, timezone

from minqing.departments import DispatchRules
from sync_server.dispatch.deadlines import add_working_days, default_deadline


def test_one_working_day_after_friday_is_monday_night():
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
    assert add_working_days(friday, 1).isoformat() == "2026-11-30T23:59:59+08:00"


def test_the_day_is_the_districts_not_utcs():
    # Sunday 23:30 UTC is Monday 07:30 in the district: one working day is Tuesday.
    late_sunday = datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)
    assert add_working_days(late_sunday, 1).date() == date(2026, 12, 1)


def test_default_deadline_per_track_in_calendar_days():
    rules = DispatchRules(deadline_days={"immediate": 7, "long_term": 90})
    assert default_deadline(date(2026, 11, 25), "long_term", rules) == date(2027, 2, 23)
