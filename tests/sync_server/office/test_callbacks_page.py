# ruff: noqa: F811 - the `office` fixture, imported from test_pages, is each test's argument
"""The 回访 list page (/office/callbacks): a closed matter with a consented phone is
listed with its phone; one without consent, an open one, or one already reached is
not; 未接通 keeps it listed with its count; a call recorded from the list returns to
it; departments and viewers are refused; the phone is in no URL and no log line; and
once retention removes the phone, the matter leaves the list."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

from sync_server.store.retention import RetentionPolicy, run_retention
from tests.sync_server.office.test_pages import csrf, login, office, seed  # noqa: F401 - fixture
from tests.sync_server.office.test_verdict_flag_pages import flagged

PHONE = "13912345678"


def _closed(office, phone: str | None = PHONE, consent: bool = True, status: str = "closed", **fields) -> dict:
    record = seed(office, phone=phone, consent=consent)
    closed_at = fields.pop("closed_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    flagged(office.app.state, record["id"], status=status, outcome="resolved", public_reply="已处理。",
            closed_at=closed_at if status != "in_progress" else None, **fields)
    return record


def _call(office, record_id: str, outcome: str):
    token = csrf(office, "/office/callbacks")
    return office.post(f"/office/records/{record_id}/action", follow_redirects=False,
                       data={"csrf": token, "action": "follow_up", "satisfaction": outcome, "return_to": "callbacks"})


def test_a_closed_matter_with_a_consented_phone_is_listed_with_it_and_the_others_are_not(office):
    listed = _closed(office)
    no_consent = _closed(office, phone=None, consent=False)
    still_open = _closed(office, status="in_progress")
    login(office, "amy")
    page = office.get("/office/callbacks").text
    assert listed["receipt"] in page and PHONE in page
    assert no_consent["receipt"] not in page and still_open["receipt"] not in page
    assert "共 1 件待回访" in page


def test_no_answer_keeps_it_listed_with_its_count_and_an_answered_call_takes_it_off(office):
    record = _closed(office)
    login(office, "amy")
    response = _call(office, record["id"], "no_answer")
    assert response.status_code == 303 and response.headers["location"] == "/office/callbacks?done=follow_up"
    page = office.get(response.headers["location"]).text
    assert "回访结果已记录" in page and re.search(r"data-attempts>未接通 1 次<", page)
    _call(office, record["id"], "fair")
    assert record["receipt"] not in office.get("/office/callbacks").text


def test_the_phone_is_in_no_url_and_no_log_line(office, caplog):
    record = _closed(office)
    login(office, "amy")
    with caplog.at_level(logging.DEBUG):
        page = office.get("/office/callbacks").text
        _call(office, record["id"], "no_answer")
        office.get("/office/callbacks")
    for url in re.findall(r'(?:href|action)="([^"]*)"', page):
        assert PHONE not in url
    assert PHONE not in caplog.text


def test_departments_and_viewers_are_refused_and_have_no_link(office):
    for name in ("police", "boss"):
        office.cookies.clear()
        login(office, name)
        response = office.get("/office/callbacks")
        assert response.status_code == 403 and PHONE not in response.text
        assert 'href="/office/callbacks"' not in response.text
    office.cookies.clear()
    login(office, "amy")
    assert 'href="/office/callbacks"' in office.get("/office/records").text


def test_once_retention_removes_the_phone_the_matter_leaves_the_list(office):
    closed_at = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds")
    record = _closed(office, closed_at=closed_at)
    login(office, "amy")
    assert record["receipt"] in office.get("/office/callbacks").text
    state = office.app.state
    assert run_retention(state.inbox, state.triage, RetentionPolicy(days_after_close=30)) == 1
    page = office.get("/office/callbacks").text
    assert record["receipt"] not in page and PHONE not in page


def test_the_lists_download_has_every_waiting_matter_and_never_a_phone(office):
    import io

    from openpyxl import load_workbook

    called = _closed(office)
    record = _closed(office)
    login(office, "amy")
    _call(office, called["id"], "no_answer")
    response = office.get("/office/callbacks.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    cells = [[c for c in row] for row in book.active.iter_rows(values_only=True)]
    text = repr(cells)
    assert record["receipt"] in text and called["receipt"] in text and PHONE not in text
    [attempts] = [row[6] for row in cells if row[0] == called["receipt"]]
    assert attempts == 1
    office.cookies.clear()
    login(office, "police")
    assert office.get("/office/callbacks.xlsx").status_code == 403
