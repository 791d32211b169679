"""The figures of 群众说了算 from hand-made triage entries (design22 §6)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from minqing.registry import parse_registry
from sync_server.office.verdict_figures import Matter, Span, count, latest_verdict, monthly_series, verdict_moments
from sync_server.triage import new_entry

REGISTRY = parse_registry("""\
site: {title: 测试, base_url: "https://example.org/"}
sectors:
  - {id: public-order, name: 社会治安}
  - {id: market, name: 市场流通}
stations:
  - {id: park, name: 工业园区, sector: public-order, town: 儒林镇, active: true}
  - {id: bus, name: 汽车站, sector: market, town: 城关镇, active: true}
departments:
  - {id: police, name: 区公安分局, leads: [public-order]}
  - {id: market, name: 区市场监督管理局, leads: [market]}
""")
MONTH = Span("month", date(2026, 11, 1), date(2026, 11, 30))
ALL = Span("all", None, date(2026, 11, 30))


def verdict(choice: str, source: str = "receipt", round_: int = 1, at: str = "2026-11-20T02:00:00+00:00") -> dict:
    return {"choice": choice, "source": source, "round": round_, "at": at, "first_at": at, "comment": "",
            "comment_sealed": None}


def entry(status: str = "closed", department: str = "police", **fields) -> dict:
    made = new_entry("2026-11-10T02:00:00+00:00")
    made.update({"status": status, "department": department, "dispatched_at": "2026-11-10T03:00:00+00:00", **fields})
    return made


def matter(station: str = "park", day: str = "2026-11-10", **fields) -> Matter:
    return Matter(station, day, entry(**fields))


def board(*matters: Matter, span: Span = MONTH):
    return count(list(matters), REGISTRY, [span])[0]


def test_a_matter_judged_in_two_rounds_counts_once_by_its_latest_verdict():
    twice = matter(round=2, verdict=verdict("satisfied", round_=2), past_verdicts=[verdict("dissatisfied")])
    total = board(twice).total
    assert (total.verdicts, total.satisfied, total.dissatisfied, total.reopened) == (1, 1, 0, 1)


def test_a_reopened_matter_still_open_keeps_its_latest_verdict_of_the_earlier_round():
    again = matter(status="assigned", round=2, verdict=None, past_verdicts=[verdict("dissatisfied")])
    total = board(again).total
    assert (total.closed, total.verdicts, total.dissatisfied, total.reopened) == (0, 1, 1, 1)


def test_fair_counts_as_satisfied_and_dissatisfied_does_not():
    total = board(matter(verdict=verdict("fair")), matter(verdict=verdict("dissatisfied"))).total
    assert (total.verdicts, total.satisfied, total.satisfaction) == (2, 1, 0.5)


def test_receipt_and_phone_verdicts_count_alike():
    total = board(matter(verdict=verdict("satisfied", "receipt")), matter(verdict=verdict("fair", "phone"), calls=1)).total
    assert (total.verdicts, total.satisfied, total.visited) == (2, 2, 2)


def test_an_unanswered_call_counts_toward_the_visit_rate_only_as_a_call():
    total = board(matter(calls=1), matter()).total
    assert (total.closed, total.visited, total.visit_rate) == (2, 1, 0.5)
    assert (total.verdicts, total.satisfaction) == (0, None)


def test_a_declined_matter_with_a_verdict_counts_in_satisfaction_but_not_in_the_close_or_visit_rate():
    total = board(matter(status="declined", department="", dispatched_at=None, verdict=verdict("dissatisfied"))).total
    assert (total.accepted, total.closed, total.visited) == (0, 0, 0)
    assert (total.verdicts, total.dissatisfied) == (1, 1)


def test_the_close_rate_is_closed_over_accepted_matters():
    total = board(matter(), matter(status="followed_up"), matter(status="in_progress"), matter(status="received")).total
    assert (total.accepted, total.closed, total.close_rate) == (3, 2, 2 / 3)


def test_a_merged_duplicate_counts_for_nothing():
    assert not board(matter(outcome="merged", verdict=verdict("satisfied"))).total.active()


def test_figures_are_grouped_by_post_sector_lead_department_and_town():
    groups = board(matter("park", verdict=verdict("satisfied")),
                   matter("bus", department="market", verdict=verdict("dissatisfied"))).groups
    assert groups["station"]["工业园区"].satisfied == 1 and groups["station"]["汽车站"].dissatisfied == 1
    assert groups["sector"]["社会治安"].verdicts == 1 and groups["sector"]["市场流通"].verdicts == 1
    assert groups["department"]["区公安分局"].satisfied == 1
    assert groups["department"]["区市场监督管理局"].dissatisfied == 1
    assert groups["town"]["儒林镇"].verdicts == groups["town"]["城关镇"].verdicts == 1


def test_a_matter_never_dispatched_is_grouped_by_its_lead_name_and_one_without_under_no_department():
    groups = board(matter(department="", dispatched_at=None, lead="区公安分局"),
                   matter(department="", dispatched_at=None)).groups["department"]
    assert groups["区公安分局"].closed == 1 and groups["（未定牵头部门）"].closed == 1


def test_a_period_counts_the_matters_received_in_it_and_since_the_start_counts_all():
    october = matter(day="2026-10-31", verdict=verdict("satisfied"))
    november = matter(day="2026-11-01", verdict=verdict("dissatisfied"))
    month, ever = count([october, november], REGISTRY, [MONTH, ALL])
    assert (month.total.verdicts, month.total.dissatisfied) == (1, 1)
    assert (ever.total.verdicts, ever.total.satisfied) == (2, 1)


def test_an_entry_from_before_verdicts_counts_its_follow_up_as_a_phone_verdict():
    old = new_entry("2026-11-10T02:00:00+00:00")
    old.update(status="followed_up", satisfaction_after="fair",
               history=[{"at": "2026-11-12T02:00:00+00:00", "action": "follow_up", "from": "closed", "to": "followed_up"}])
    for key in ("verdict", "past_verdicts", "calls", "round"):
        old.pop(key)
    assert latest_verdict(old)["source"] == "phone"
    total = board(Matter("park", "2026-11-10", old)).total
    assert (total.visited, total.verdicts, total.satisfied) == (1, 1, 1)


def test_the_ratings_seam_reads_every_verdict_and_call_outcome_but_no_unanswered_call():
    steps = [{"at": "2026-11-20T02:00:00+00:00", "action": "verdict", "choice": "dissatisfied"},
             {"at": "2026-11-21T02:00:00+00:00", "action": "follow_up", "choice": "no_answer"},
             {"at": "2026-11-22T02:00:00+00:00", "action": "follow_up", "choice": "fair"}]
    assert verdict_moments(entry(history=steps)) == [(datetime(2026, 11, 20, 2, tzinfo=timezone.utc), False),
                                                     (datetime(2026, 11, 22, 2, tzinfo=timezone.utc), True)]
    assert verdict_moments(entry()) == []


def test_the_monthly_series_counts_each_month_of_arrival():
    series = monthly_series([matter(day="2026-10-05", verdict=verdict("satisfied")),
                             matter(day="2026-11-05", calls=1)], ["2026-10", "2026-11"])
    assert [(m, t.satisfaction, t.visit_rate) for m, t in series] == [("2026-10", 1.0, 1.0), ("2026-11", None, 1.0)]
