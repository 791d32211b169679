"""Who may take the 群众说了算 actions: the citizen only verdict and answer, a department
only 已阅补充 on its own matters, staff the rest (`dispatch.rules.may_take`)."""

from __future__ import annotations

import pytest

from sync_server.dispatch.rules import CITIZEN, Actor, may_take
from sync_server.triage import ACTIONS, allowed_actions
from tests.sync_server.dispatch.world import MARKET, STAFF, dispatched

STAFF_ONLY = ("ask", "reopen", "maintain", "publish", "unpublish", "follow_up")


def test_the_citizen_is_named_citizen_and_shown_as_the_public():
    assert (CITIZEN.name, CITIZEN.display, CITIZEN.role) == ("citizen", "群众", "citizen")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_citizen_may_take_only_verdict_and_answer(action):
    expected = None if action in ("verdict", "answer") else "not_your_action"
    assert may_take(dispatched("market"), action, CITIZEN) == expected


@pytest.mark.parametrize("action", ["verdict", "answer"])
def test_no_account_of_the_office_takes_a_citizens_step(action):
    for actor in (Actor("amy", "王芳"), Actor("market", "李", "department", "market")):
        assert may_take(dispatched("market"), action, actor) == "not_your_action"


@pytest.mark.parametrize("action", STAFF_ONLY)
def test_staff_take_the_office_side_and_departments_do_not(action):
    assert may_take(dispatched("market"), action, Actor("amy", "王芳")) is None
    assert may_take(dispatched("market"), action, Actor("market", "李", "department", "market")) == "not_your_action"


def test_a_department_sees_an_answer_only_on_its_own_matter():
    entry = {**dispatched("market"), "citizen_added": True}
    assert may_take(entry, "seen_answer", Actor("market", "李", "department", "market")) is None
    assert may_take(entry, "seen_answer", Actor("police", "张", "department", "police")) == "not_your_matter"
    assert "seen_answer" in allowed_actions(entry, "department", MARKET)
    assert "seen_answer" not in allowed_actions(dispatched("market"), "staff", STAFF)


def test_a_merged_matter_offers_none_of_the_verdict_steps():
    merged = {**dispatched("market"), "status": "closed", "outcome": "merged", "dissatisfied": True}
    offered = allowed_actions(merged, "staff", STAFF)
    assert not set(offered) & {"follow_up", "ask", "publish", "reopen", "maintain"}
