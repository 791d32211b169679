# ruff: noqa: F811 - the `office` fixture, imported from test_pages, is each test's argument
"""The flags 群众不满意 and 群众已补充 on the office's pages: the inbox list shows them
and filters by each, the department's queue has a tab for each, the record page says
them; a matter without a flag shows none."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.sync_server.office.test_pages import dispatch_in_store, login, office, seed  # noqa: F401 - fixture

__all__ = ["flagged"]


def flagged(state, record_id: str, **fields) -> None:
    """Fields of the triage entry written straight to the log (as the citizen's verdict
    and answer would set them), the read side told."""
    row = state.readside.row(record_id, state.stations.registry, datetime.now(timezone.utc).date())
    state.readside.triage_changed(state.triage.put_many({record_id: {**row.triage, **fields}}))


def _closed_pair(office):
    unhappy, added = seed(office, feeling="路灯还是不亮"), seed(office, feeling="补充：晚上九点以后")
    state = office.app.state
    flagged(state, unhappy["id"], status="closed", dissatisfied=True)
    flagged(state, added["id"], status="closed", citizen_added=True)
    return unhappy, added


def test_the_inbox_shows_each_flag_and_filters_by_it(office):
    unhappy, added = _closed_pair(office)
    quiet = seed(office, feeling="一切都好")
    login(office, "amy")
    page = office.get("/office/records").text
    assert page.count('data-flag="dissatisfied"') == 1 and page.count('data-flag="citizen_added"') == 1
    only = office.get("/office/records?dissatisfied=1").text
    assert unhappy["receipt"] in only and added["receipt"] not in only and quiet["receipt"] not in only
    only = office.get("/office/records?citizen_added=1").text
    assert added["receipt"] in only and unhappy["receipt"] not in only
    assert 'name="dissatisfied" value="1" checked' in office.get("/office/records?dissatisfied=1").text


def test_the_department_queue_has_a_tab_for_each_flag(office):
    unhappy, added = seed(office, feeling="路灯还是不亮"), seed(office, feeling="补充：晚上九点以后")
    state = office.app.state
    police = state.stations.registry.lead_of("public-order").id
    for record in (unhappy, added):
        dispatch_in_store(state, record["id"], police)
    flagged(state, unhappy["id"], status="closed", dissatisfied=True)
    flagged(state, added["id"], status="closed", citizen_added=True)
    login(office, "amy")
    page = office.get(f"/office/queue?department={police}&tab=dissatisfied").text
    assert unhappy["receipt"] in page and added["receipt"] not in page and 'data-flag="dissatisfied"' in page
    page = office.get(f"/office/queue?department={police}&tab=citizen_added").text
    assert added["receipt"] in page and unhappy["receipt"] not in page


def test_the_record_page_says_the_flags_and_a_plain_matter_none(office):
    unhappy, _ = _closed_pair(office)
    quiet = seed(office, feeling="一切都好")
    login(office, "amy")
    page = office.get(f"/office/records/{unhappy['id']}").text
    assert 'data-flag="dissatisfied"' in page
    assert "data-flag=" not in office.get(f"/office/records/{quiet['id']}").text
