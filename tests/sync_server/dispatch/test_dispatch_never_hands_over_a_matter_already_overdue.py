"""Severity: LOW-MEDIUM. 交办 accepts a deadline already past (the department receives a matter
overdue on arrival, counted in its 期末超期/期内超期), and 改派 of an overdue matter keeps
the old, past deadline, so the new department is ranked down for a matter it got today.
Repro: 交办 with deadline=2020-01-01 -> accepted; 改派 an overdue matter with no deadline -> same past deadline."""
import re
from datetime import datetime, timedelta, timezone

from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import act, login, seed

office = test_pages.office  # the same small office world

CHINA = timezone(timedelta(hours=8))


def _deadline(client, record_id):
    page = client.get(f"/office/records/{record_id}").text
    return re.search(r"期限 (\d{4}-\d{2}-\d{2})", page).group(1)


def test_assign_refuses_a_deadline_in_the_past(office):
    park = seed(office, station_id="rulin-industrial-park")
    login(office, "amy")
    act(office, park["id"], "accept")
    response = act(office, park["id"], "assign", department="police", track="immediate", deadline="2020-01-01")
    assert "error=deadline_past" in response.headers["location"]
    assert "办理期限不能早于今天" in office.get(response.headers["location"]).text


def test_reassign_of_an_overdue_matter_gives_the_new_department_a_deadline_not_past(office):
    park = seed(office, station_id="rulin-industrial-park")
    login(office, "amy")
    act(office, park["id"], "accept")
    # 交办 now refuses a past deadline: the matter falls overdue in the store instead.
    act(office, park["id"], "assign", department="police", track="immediate", backdate="2020-01-01")
    response = act(office, park["id"], "reassign", department="education", note="属教育领域")
    today = datetime.now(CHINA).date().isoformat()
    assert "error=" not in response.headers["location"], response.headers["location"]
    assert _deadline(office, park["id"]) >= today  # the track's default from today
    refused = act(office, park["id"], "reassign", department="police", note="改回", deadline="2020-01-01")
    assert "error=deadline_past" in refused.headers["location"]
