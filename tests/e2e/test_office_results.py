"""The 成效 page in a real browser: at 1280 px and on a 360 px phone the page itself never
scrolls sideways and its chart fits beside its text table; axe-core finds no serious or
critical problem, for staff and for a department account. One server for the module."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timezone

from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.e2e.test_office_layout import PASSWORD, _axe
from tests.e2e.test_office_ratings import _login


def _seed(world) -> None:
    """Two matters received now: police's closed and judged 基本满意, market's reopened after a 不满意."""
    now = datetime.now(timezone.utc)
    items = [{"id": str(uuid.uuid4()), "station_id": station, "created_at": now.isoformat(timespec="seconds"),
              "rating": "fair", "feeling": f"第{n}条反映", "suggestion": "", "phone": None, "consent": False}
             for n, station in enumerate(["rulin-industrial-park", "jintan-east-bus"])]
    request = urllib.request.Request(world.server.url + "/api/submissions/batch", method="POST",
                                     data=json.dumps({"device_id": "tablet", "submissions": items}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    world.server.stop()  # the triage log is the server's alone while it runs
    at = now.isoformat(timespec="seconds")
    verdict = {"round": 1, "at": at, "first_at": at, "comment": "", "comment_sealed": None}
    step = {"at": at, "by": "amy", "action": "assign", "from": "accepted", "to": "assigned", "note": ""}
    book = TriageBook(world.server.data_dir)
    book.put_many({
        items[0]["id"]: {**new_entry(at), "status": "closed", "department": "police", "dispatched_at": at,
                         "closed_at": at, "outcome": "resolved", "history": [step], "calls": 1,
                         "verdict": {**verdict, "choice": "fair", "source": "phone"}},
        items[1]["id"]: {**new_entry(at), "status": "assigned", "department": "market", "dispatched_at": at,
                         "history": [step], "round": 2,
                         "past_verdicts": [{**verdict, "choice": "dissatisfied", "source": "receipt"}]},
    })
    book.close()
    accounts = Accounts(world.server.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"], department="police")
    world.server.start()


def test_the_results_page_fits_a_phone_and_axe_finds_nothing_serious(world, browser):
    _seed(world)
    found = {}
    for name in ("amy", "police"):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page = context.new_page()
        try:
            _login(page, world, name)
            for width in (1280, 360):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(f"{world.server.url}/office/results")
                page.wait_for_selector("h1:has-text('成效')")
                chart = page.locator("svg.chart")
                assert chart.count() == 1, "the month-by-month chart"
                assert page.locator("table caption", has_text="逐月数据").count() == 1, "the chart's text table"
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                box = chart.bounding_box()
                assert box["x"] + box["width"] <= width
                found[f"{name}@{width}"] = _axe(page)
        finally:
            context.close()
    assert {key: problems for key, problems in found.items() if problems} == {}
