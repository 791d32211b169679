"""One action on one record as the office pages take it (`office.acting`): 公开 takes the
record's own post and sector, never the form's."""

from __future__ import annotations

from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, login, seed

office = test_office.office  # the same small office world


def test_publish_names_the_records_own_post_and_sector_whatever_the_form_says(office):
    record = seed(office)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局", deadline="2026-12-31", track="long_term")
    act(office, record["id"], "close", outcome="resolved")
    response = act(office, record["id"], "publish", public_title="校门口增派交警", public_done="放学时段已增派一名交警。",
                   station_id="another-post", sector="public-order")
    assert response.headers["location"].endswith("?done=publish")
    publication = office.app.state.triage.entry(record["id"])["publication"]
    assert (publication["station_id"], publication["sector"]) == ("hebin-primary", "education-health")
    assert publication["title"] == "校门口增派交警"
