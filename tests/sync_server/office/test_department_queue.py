"""A department's queue: each matter it leads under its tabs (a matter may be under two),
the counts, the order a department works it, paging, and the matters it only helps
with apart. Another department's matter, or one never dispatched, is in no list."""

from __future__ import annotations

from datetime import date

import pytest

from minqing.registry import load_registry
from sync_server.office.department_queue import PAGE_SIZE, department_queue, touches
from sync_server.triage import new_entry
from tests.conftest import SAMPLE_REGISTRY

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="module")
def rules():
    return load_registry(SAMPLE_REGISTRY).dispatch


def _entry(status: str, department: str = "market", deadline: str | None = "2026-12-20", **fields) -> dict:
    return {**new_entry("2026-11-20T01:00:00+00:00"), "status": status, "department": department,
            "deadline": deadline, "dispatched_at": "2026-11-20T02:00:00+00:00", **fields}


def test_a_dispatched_matter_is_to_sign_for_its_department_and_nobody_else(rules):
    entries = [("a", _entry("assigned"))]
    mine = department_queue(entries, "market", "to_sign", 1, TODAY, rules)
    assert mine.ids == ["a"] and mine.counts["to_sign"] == 1
    other = department_queue(entries, "police", "to_sign", 1, TODAY, rules)
    assert other.ids == [] and sum(other.counts.values()) == 0 and other.co_ids == []


def test_a_matter_never_dispatched_is_in_no_queue(rules):
    entries = [("a", {**new_entry("2026-11-20T01:00:00+00:00"), "status": "accepted"})]
    for tab in ("to_sign", "handling", "returned"):
        assert department_queue(entries, "market", tab, 1, TODAY, rules).ids == []
    assert touches(entries[0][1], "") == ""


def test_counts_per_tab_and_a_matter_due_soon_is_also_handling(rules):
    entries = [
        ("to_sign", _entry("assigned")),
        ("handling", _entry("in_progress", signed_at="2026-11-21T01:00:00+00:00")),
        ("due", _entry("in_progress", deadline="2026-11-27")),  # within the registry's warn days
        ("late", _entry("in_progress", deadline="2026-11-20")),
        ("review", _entry("review")),
        ("closed", _entry("closed")),
    ]
    queue = department_queue(entries, "market", "handling", 1, TODAY, rules)
    assert queue.counts == {"to_sign": 1, "handling": 3, "due_soon": 1, "overdue": 1, "returned": 0, "review": 1,
                            "dissatisfied": 0, "citizen_added": 0}
    assert set(queue.ids) == {"handling", "due", "late"}
    assert department_queue(entries, "market", "due_soon", 1, TODAY, rules).ids == ["due"]
    assert department_queue(entries, "market", "overdue", 1, TODAY, rules).ids == ["late"]
    assert department_queue(entries, "market", "review", 1, TODAY, rules).ids == ["review"]


def test_soonest_deadline_first_and_paged(rules):
    entries = [(f"m{n:03d}", _entry("assigned", deadline=f"2027-01-{1 + n % 28:02d}")) for n in range(PAGE_SIZE + 5)]
    first = department_queue(entries, "market", "to_sign", 1, TODAY, rules)
    second = department_queue(entries, "market", "to_sign", 2, TODAY, rules)
    assert first.total == PAGE_SIZE + 5 and first.pages == 2 and len(first.ids) == PAGE_SIZE
    deadlines = [dict(entries)[i]["deadline"] for i in first.ids + second.ids]
    assert deadlines == sorted(deadlines) and set(first.ids + second.ids) == {i for i, _ in entries}
    assert department_queue(entries, "market", "to_sign", 99, TODAY, rules).page == 2


def test_cohandled_matters_are_listed_apart_and_counted_in_no_tab(rules):
    entries = [("co", _entry("in_progress", department="police", co_departments=["market"])),
               ("co_done", _entry("closed", department="police", co_departments=["market"]))]
    queue = department_queue(entries, "market", "handling", 1, TODAY, rules)
    assert queue.co_ids == ["co"] and queue.ids == [] and sum(queue.counts.values()) == 0


def test_a_matter_sent_back_stays_under_returned_until_dispatched_elsewhere(rules):
    back = _entry("returned", department="", returned_by="market")
    assert department_queue([("r", back)], "market", "returned", 1, TODAY, rules).ids == ["r"]
    elsewhere = _entry("assigned", department="police", returned_by="market")
    queue = department_queue([("r", elsewhere)], "market", "returned", 1, TODAY, rules)
    assert queue.ids == [] and sum(queue.counts.values()) == 0


def test_an_unknown_tab_shows_to_sign(rules):
    assert department_queue([("a", _entry("assigned"))], "market", "<b>", 1, TODAY, rules).tab == "to_sign"


def test_a_closed_matter_the_citizen_judged_dissatisfied_is_under_its_own_tab(rules):
    entries = [("unhappy", _entry("closed", dissatisfied=True)), ("quiet", _entry("closed")),
               ("answered", _entry("followed_up", citizen_added=True)),
               ("other", _entry("closed", department="police", dissatisfied=True))]
    queue = department_queue(entries, "market", "dissatisfied", 1, TODAY, rules)
    assert queue.ids == ["unhappy"] and queue.counts["dissatisfied"] == 1 and queue.counts["citizen_added"] == 1
    assert department_queue(entries, "market", "citizen_added", 1, TODAY, rules).ids == ["answered"]


def test_an_open_matter_with_an_answer_is_under_its_status_tab_and_the_flag_tab(rules):
    entries = [("a", _entry("in_progress", citizen_added=True))]
    assert department_queue(entries, "market", "handling", 1, TODAY, rules).ids == ["a"]
    assert department_queue(entries, "market", "citizen_added", 1, TODAY, rules).ids == ["a"]
