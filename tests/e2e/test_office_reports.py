"""The weekly meeting pack as it prints: on an A4 page (print media, the width inside
the page margins) nothing is wider than the paper, and codes and dates stay on one line."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from tests.e2e.test_office_layout import _login, _seed

# A4 is 210 mm wide; the office stylesheet's @page leaves 12 mm each side: 186 mm at 96 px per inch.
A4_INSIDE_MARGINS_PX = round(186 / 25.4 * 96)


def _act(page, world, receipt: str, action: str, **fields) -> None:
    page.goto(world.server.url + "/office/records?q=" + receipt)
    page.click(f"text={receipt}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(page.url + "/action", form={"csrf": csrf, "action": action, "confirm": "yes", **fields},
                                 headers={"Origin": world.server.url}, max_redirects=0)
    assert response.status == 303, response.status


def test_the_weekly_pack_prints_on_a4_with_codes_and_dates_on_one_line(world, browser):
    receipts = _seed(world, 3)
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, world)
        today = datetime.now(timezone(timedelta(hours=8))).date()
        deadlines = [(today + timedelta(days=n + 1)).isoformat() for n in range(3)]  # 交办 refuses a past one
        for n, receipt in enumerate(receipts):
            _act(page, world, receipt, "accept")
            _act(page, world, receipt, "assign", lead="区公安分局", deadline=deadlines[n], track="immediate",
                 summary="园区门口晚上有人聚集闹事，影响附近居民休息，需要公安和城管联合整治" * (n + 1))
            _act(page, world, receipt, "start", weekly="yes")
        page.set_viewport_size({"width": A4_INSIDE_MARGINS_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto(world.server.url + f"/office/reports/weekly?date={today.isoformat()}")
        assert page.locator("td.nowrap").count() >= 3 * 3  # flagged rows: code, received, deadline
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= A4_INSIDE_MARGINS_PX, wide
        # The lines each code or date takes (a row is as tall as its longest summary,
        # so the text's own line boxes are counted, not the cell's height).
        lines = page.evaluate("""[...document.querySelectorAll('td.nowrap')].map(td => {
            const range = document.createRange(); range.selectNodeContents(td);
            return range.getClientRects().length; })""")
        assert set(lines) == {1}, lines
        codes = page.locator("td.nowrap").all_inner_texts()
        assert all(receipt in codes for receipt in receipts) and any(c in deadlines for c in codes)
        assert page.pdf(format="A4").startswith(b"%PDF")
    finally:
        context.close()


def test_the_weekly_pack_with_phones_still_fits_a4_with_every_column_readable(world, browser):
    from tests.e2e.test_office_phone_tables import SQUEEZED

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items = [{"id": str(uuid.uuid4()), "station_id": "jincheng-construction", "created_at": now, "rating": "fair",
              "feeling": "工地夜间施工噪音太大，渣土车把路面压坏了，希望尽快修复并限制施工时间。", "suggestion": "",
              "phone": "13800138000", "consent": True} for _ in range(2)]
    request = urllib.request.Request(world.server.url + "/api/submissions/batch", method="POST",
                                     data=json.dumps({"device_id": "tablet", "submissions": items}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        receipts = [r["receipt"] for r in json.load(response)["results"]]
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, world)
        for receipt in receipts:
            _act(page, world, receipt, "accept")
            _act(page, world, receipt, "assign", lead="区住房和城乡建设局", track="immediate")
            _act(page, world, receipt, "start", weekly="yes")
        _act(page, world, receipts[1], "close", outcome="not_ours", confirm="yes")
        today = datetime.now(timezone(timedelta(hours=8))).date()
        page.set_viewport_size({"width": A4_INSIDE_MARGINS_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto(world.server.url + f"/office/reports/weekly?date={today.isoformat()}&phone=1")
        assert page.locator("td.nowrap:has-text('13800138000')").count() >= 2  # the pack that was asked for
        assert page.locator("td:has-text('不属于职责范围')").count() == 1
        # Eleven columns on 186 mm: nothing runs off the paper, and no column is squeezed.
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= A4_INSIDE_MARGINS_PX, wide
        assert page.evaluate(SQUEEZED) == []
    finally:
        context.close()
