"""The ranking's score and order."""

from __future__ import annotations

import pytest

from sync_server.office.department_figures import NO_DEPARTMENT, Tally
from sync_server.office.department_ranking import ranking, score


def tally(sign=(1, 1), close=(1, 1), on_time=(1, 1), verdicts=(1, 1), **more) -> Tally:
    return Tally(dispatched=1, signed_on_time=sign[0], sign_judged=sign[1], handled_closed=close[0], handled=close[1],
                 closed=on_time[1], closed_on_time=on_time[0], closed_with_deadline=on_time[1], satisfied=verdicts[0],
                 verdicts=verdicts[1], **more)


def test_the_score_weighs_the_four_rates_20_30_30_20():
    assert score(tally(sign=(0, 1))) == pytest.approx(80)
    assert score(tally(close=(1, 2), on_time=(0, 1))) == pytest.approx(55)


def test_a_rate_without_base_is_left_out_and_the_others_scale_up():
    assert score(tally(verdicts=(0, 0), sign=(1, 2))) == pytest.approx(100 * (10 + 30 + 30) / 80)


def test_a_department_with_nothing_to_rate_has_no_score():
    assert score(Tally(dispatched=1)) is None


def test_the_highest_score_ranks_first_and_ties_go_to_fewer_overdue():
    places = ranking({"a": tally(sign=(0, 1)), "b": tally(), "c": tally(overdue_now=1), "d": tally(sign=(0, 1)),
                      "idle": Tally(), NO_DEPARTMENT: tally()})
    assert [(p.rank, p.department, p.score) for p in places] == [(1, "b", 100), (2, "c", 100), (3, "a", 80), (3, "d", 80)]
