"""The 考核 page in a real browser: at 1280 px and on a 360 px phone the page itself never
scrolls sideways and its chart fits; axe-core finds no serious or critical problem,
for staff and for a department account. One server for the module's one test."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.e2e.test_office_layout import PASSWORD, _axe

CHINA = timezone(timedelta(hours=8))


def _seed(world) -> None:
    """Three records dispatched last week: two to police (one closed), one to market."""
    now = datetime.now(timezone.utc)
    items = [{"id": str(uuid.uuid4()), "station_id": station, "created_at": now.isoformat(timespec="seconds"),
              "rating": "fair", "feeling": f"第{n}条反映", "suggestion": "", "phone": None, "consent": False}
             for n, station in enumerate(["rulin-industrial-park", "hebin-primary", "jintan-east-bus"])]
    request = urllib.request.Request(world.server.url + "/api/submissions/batch", method="POST",
                                     data=json.dumps({"device_id": "tablet", "submissions": items}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    world.server.stop()  # the triage log is the server's alone while it runs
    day = now - timedelta(days=7)

    def at(hours: int) -> str:
        return (day + timedelta(hours=hours)).isoformat(timespec="seconds")

    def entry(department: str, closed: bool) -> dict:
        history = [{"at": at(0), "by": "amy", "action": "assign", "from": "accepted", "to": "assigned", "note": "",
                    "department": department, "before": {"department": "", "sign_due": None}},
                   {"at": at(2), "by": department, "action": "sign", "from": "assigned", "to": "in_progress", "note": ""}]
        if closed:
            history.append({"at": at(30), "by": "amy", "action": "close", "from": "in_progress", "to": "closed", "note": ""})
        return {**new_entry(at(0)), "status": "closed" if closed else "in_progress", "department": department,
                "deadline": (day + timedelta(days=3)).date().isoformat(), "sign_due": at(24), "updated_at": history[-1]["at"],
                "closed_at": at(30) if closed else None, "outcome": "resolved" if closed else None, "history": history}

    book = TriageBook(world.server.data_dir)
    book.put_many({items[0]["id"]: entry("police", True), items[1]["id"]: entry("police", False),
                   items[2]["id"]: entry("market", False)})
    book.close()
    accounts = Accounts(world.server.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"], department="police")
    world.server.start()


def _login(page, world, name: str) -> None:
    page.goto(world.server.url + "/office/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/office/**")


def test_the_ratings_page_fits_a_phone_and_axe_finds_nothing_serious(world, browser):
    _seed(world)
    week = (datetime.now(CHINA) - timedelta(days=7)).date().isoformat()
    found = {}
    for name in ("amy", "police"):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = context.new_page()
        try:
            _login(page, world, name)
            for width in (1280, 360):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(f"{world.server.url}/office/ratings?week={week}")
                page.wait_for_selector("h1:has-text('承办单位考核')")
                chart = page.locator("svg.chart")
                assert chart.count() == 1, "the ranking's chart"
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                assert chart.bounding_box()["x"] + chart.bounding_box()["width"] <= width
                found[f"{name}@{width}"] = _axe(page)
        finally:
            context.close()
    assert {key: problems for key, problems in found.items() if problems} == {}
