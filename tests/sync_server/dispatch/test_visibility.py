"""A department sees exactly the matters dispatched to it: never by sector alone, never
after 改派, a matter it sent back only until it is dispatched elsewhere."""

from __future__ import annotations

from sync_server.dispatch.visibility import sees_matter
from sync_server.store.accounts import Account
from sync_server.triage import new_entry
from tests.sync_server.dispatch.world import MARKET, POLICE, STAFF, URBAN, act, dispatched

VIEWER = Account("boss", "viewer", "领导", (), "", False)
OLD_POLICE = Account("police", "department", "区公安分局", ("public-order",), "", False)


def test_a_department_sees_a_matter_dispatched_to_it_whatever_its_sector():
    entry = dispatched("market", co_departments="urban")
    assert sees_matter(MARKET, entry) and sees_matter(URBAN, entry) and sees_matter(STAFF, entry)


def test_a_department_never_sees_a_matter_never_dispatched_to_it():
    entry = dispatched("market")
    assert not sees_matter(POLICE, entry)
    assert not sees_matter(POLICE, new_entry("2026-11-20T01:00:00+00:00"))
    assert not sees_matter(POLICE, None)
    assert not sees_matter(VIEWER, entry)


def test_a_department_of_the_records_sector_without_dispatch_sees_nothing():
    assert not sees_matter(OLD_POLICE, dispatched("market"))  # sectors no longer grant sight


def test_after_reassign_the_old_department_sees_nothing():
    moved = act(act(dispatched("market"), "sign", MARKET), "reassign", department="police", note="属治安")
    assert sees_matter(POLICE, moved) and not sees_matter(MARKET, moved)


def test_a_returned_matter_stays_visible_to_its_sender_until_dispatched_again():
    returned = act(dispatched("market"), "send_back", MARKET, reason="不属本局")
    assert sees_matter(MARKET, returned) and not sees_matter(URBAN, returned)
    again = act(returned, "assign", department="police", track="immediate")
    assert not sees_matter(MARKET, again) and sees_matter(POLICE, again)
