"""Old free-text leads are mapped at start by exact name, else flagged: never dropped."""

from __future__ import annotations

from sync_server.dispatch.legacy import mapped_leads
from sync_server.triage import apply, new_entry
from tests.sync_server.dispatch.world import MARKET, NOW, REGISTRY, act, dispatched


def _old(lead: str) -> dict:
    entry = apply(new_entry("2026-11-20T01:00:00+00:00"), "accept", {}, "amy", NOW)
    old = apply(entry, "assign", {"lead": lead, "deadline": "2026-12-01", "track": "immediate"}, "amy", NOW)
    return {k: v for k, v in old.items() if k not in ("department", "lead_unmapped")}  # as an older version wrote it


def test_an_old_lead_of_a_registry_departments_exact_name_is_mapped_to_its_id():
    changed = mapped_leads({"a": _old("区公安分局")}, REGISTRY)
    assert changed["a"]["department"] == "police" and changed["a"]["lead_unmapped"] is False


def test_an_old_lead_no_department_matches_is_flagged_and_keeps_its_text():
    changed = mapped_leads({"a": _old("公安局"), "b": _old(" 区公安分局x")}, REGISTRY)
    assert changed["a"]["lead_unmapped"] is True and changed["a"]["lead"] == "公安局" and not changed["a"].get("department")
    assert changed["b"]["lead_unmapped"] is True


def test_entries_already_mapped_or_flagged_or_never_dispatched_are_left_alone():
    flagged = {**_old("公安局"), "lead_unmapped": True}
    mapped = {**_old("区公安分局"), "department": "police"}
    fresh = new_entry("2026-11-20T01:00:00+00:00")
    assert mapped_leads({"a": flagged, "b": mapped, "c": fresh}, REGISTRY) == {}


def test_a_matter_this_version_dispatched_and_a_department_sent_back_is_no_old_lead():
    returned = act(dispatched("market"), "send_back", MARKET, reason="不属本局")
    assert returned["department"] == "" and returned["lead"] == "区市场监督管理局"
    assert mapped_leads({"a": returned}, REGISTRY) == {}
