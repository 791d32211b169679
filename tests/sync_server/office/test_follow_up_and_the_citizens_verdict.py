"""回访 by phone is for consenting citizens only (issue 22 §5), and a 不满意 sends the
matter back for staff to choose 重新办理 or 维持原处理 (§3). Today staff can record a
phone 回访 "满意" on a matter that has no phone at all: it replaces the citizen's own
不满意 given by receipt, clears the 群众不满意 flag, and the citizen's look-up then reads
满意 as their verdict. Reviewer's tests."""

from __future__ import annotations

from tests.sync_server.intake.test_citizen_api import close, lookup, verdict
from tests.sync_server.office.test_pages import act, login, office, seed  # noqa: F401 - `office` is a fixture


def test_a_phone_follow_up_is_refused_on_a_matter_without_a_consenting_phone(office):  # noqa: F811
    record = seed(office)  # phone None, consent False
    close(office, record["id"])
    assert verdict(office, record["receipt"], choice="dissatisfied").json()["status"] == "accepted"
    login(office, "amy")
    act(office, record["id"], "follow_up", satisfaction="satisfied")
    entry = office.app.state.triage.entry(record["id"])
    assert entry["verdict"]["source"] == "receipt" and entry["verdict"]["choice"] == "dissatisfied"
    assert entry["dissatisfied"] is True
    assert lookup(office, record["receipt"])["verdict"]["choice"] == "不满意"


def test_a_phone_follow_up_does_not_clear_the_dissatisfied_flag_staff_must_decide(office):  # noqa: F811
    record = seed(office, phone="13800138000", consent=True)
    close(office, record["id"])
    assert verdict(office, record["receipt"], choice="dissatisfied").json()["status"] == "accepted"
    login(office, "amy")
    act(office, record["id"], "follow_up", satisfaction="satisfied")
    entry = office.app.state.triage.entry(record["id"])
    # The flag goes only by 重新办理 or 维持原处理, each a recorded decision with its reason.
    assert entry["dissatisfied"] is True
