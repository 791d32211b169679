"""A department's queue tabs and the 签收 deadline."""

from __future__ import annotations

from datetime import date, datetime, timezone

from minqing.departments import DispatchRules
from sync_server.dispatch.queue import queue_tab, sign_overdue
from tests.sync_server.dispatch.world import MARKET, act, dispatched

RULES = DispatchRules(warn_days=3)


def test_tabs_follow_status_and_deadline():
    entry = dispatched("market", deadline="2026-12-10")
    assert queue_tab(entry, date(2026, 12, 1), RULES) == {"to_sign"}
    assert queue_tab(entry, date(2026, 12, 7), RULES) == {"to_sign", "due_soon"}
    assert queue_tab(entry, date(2026, 12, 10), RULES) == {"to_sign", "due_soon"}
    assert queue_tab(entry, date(2026, 12, 11), RULES) == {"to_sign", "overdue"}
    signed = act(entry, "sign", MARKET)
    assert queue_tab(signed, date(2026, 12, 1), RULES) == {"handling"}
    review = act(signed, "submit", MARKET, outcome="resolved", result="好", public_reply="好")
    assert queue_tab(review, date(2026, 12, 11), RULES) == {"review"}  # awaiting review is the office's, not overdue
    returned = act(entry, "send_back", MARKET, reason="不属本局")
    assert queue_tab(returned, date(2026, 12, 1), RULES) == {"returned"}


def test_sign_is_overdue_only_while_unsigned_after_its_due_time():
    entry = dispatched("market")  # due 2026-11-26 23:59:59 +08:00
    before = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)
    after = datetime(2026, 11, 26, 16, 0, 1, tzinfo=timezone.utc)
    assert not sign_overdue(entry, before) and sign_overdue(entry, after)
    assert not sign_overdue(act(entry, "sign", MARKET), after)
