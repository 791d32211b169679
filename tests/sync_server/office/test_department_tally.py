"""Periods and the rates of a tally."""

from __future__ import annotations

from datetime import date

import pytest

from sync_server.office.department_tally import Period, Tally


@pytest.mark.parametrize(("kind", "first", "last"), [("month", date(2026, 10, 1), date(2026, 10, 31)),
                                                     ("week", date(2026, 11, 16), date(2026, 11, 22))])
def test_the_previous_period_is_the_whole_month_or_week_before(kind, first, last):
    period = Period.month(2026, 11, date(2026, 11, 25)) if kind == "month" else Period.week(date(2026, 11, 25), date(2026, 11, 25))
    assert (period.previous().first, period.previous().last, period.previous().as_of) == (first, last, last)


def test_a_running_period_is_counted_to_today_and_a_past_one_to_its_end():
    assert Period.month(2026, 11, date(2026, 11, 10)).as_of == date(2026, 11, 10)
    assert Period.week(date(2026, 11, 4), date(2026, 12, 1)).as_of == date(2026, 11, 8)


def test_a_rate_without_base_is_none_not_zero():
    assert Tally(dispatched=3).close_rate is None
    assert Tally(handled=4, handled_closed=1).close_rate == 0.25
