"""A kiosk tablet keeps nothing of a citizen's receipt afterwards (issue 22 §2): the
pages a browser without JavaScript reads after a look-up or a verdict name the receipt
code, the office's reply and question and the verdict; they must not be kept by the
browser's cache for the next person at the tablet (Back, history). Reviewer's tests:
today these answers carry no Cache-Control at all."""

from __future__ import annotations

import uuid

from tests.sync_server.intake.test_citizen_api import close, seed


def test_the_look_up_page_without_javascript_is_not_kept_by_the_browser(client):
    record = seed(client)
    close(client, record["id"])
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]})
    assert page.status_code == 200 and record["receipt"] in page.text
    assert "no-store" in page.headers.get("cache-control", "")


def test_the_verdict_page_without_javascript_is_not_kept_by_the_browser(client):
    record = seed(client)
    close(client, record["id"])
    page = client.post("/api/receipts/verdict", data={"code": record["receipt"], "id": str(uuid.uuid4()),
                                                      "round": "1", "choice": "dissatisfied", "comment": ""})
    assert page.status_code == 200
    assert "no-store" in page.headers.get("cache-control", "")
