"""The weekly meeting pack as it prints: on an A4 page (print media, the width inside
the page margins) nothing is wider than the paper, and codes and dates stay on one line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.e2e.test_office_layout import _login, _seed

# A4 is 210 mm wide; the office stylesheet's @page leaves 12 mm each side: 186 mm at 96 px per inch.
A4_INSIDE_MARGINS_PX = round(186 / 25.4 * 96)


def _act(page, world, receipt: str, action: str, **fields) -> None:
    page.goto(world.server.url + "/office/records?q=" + receipt)
    page.click(f"text={receipt}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(page.url + "/action", form={"csrf": csrf, "action": action, **fields},
                                 headers={"Origin": world.server.url}, max_redirects=0)
    assert response.status == 303, response.status


def test_the_weekly_pack_prints_on_a4_with_codes_and_dates_on_one_line(world, browser):
    receipts = _seed(world, 3)
    context = browser.new_context()
    page = context.new_page()
    try:
        _login(page, world)
        for n, receipt in enumerate(receipts):
            _act(page, world, receipt, "accept")
            _act(page, world, receipt, "assign", lead="区公安分局", deadline="2020-01-0" + str(n + 1), track="immediate",
                 summary="园区门口晚上有人聚集闹事，影响附近居民休息，需要公安和城管联合整治" * (n + 1))
            _act(page, world, receipt, "start", weekly="yes")
        today = datetime.now(timezone(timedelta(hours=8))).date()
        page.set_viewport_size({"width": A4_INSIDE_MARGINS_PX, "height": 1100})
        page.emulate_media(media="print")
        page.goto(world.server.url + f"/office/reports/weekly?date={today.isoformat()}")
        assert page.locator("td.nowrap").count() >= 2 * 3 * 3  # flagged and overdue rows: code, received, deadline
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= A4_INSIDE_MARGINS_PX, wide
        # The lines each code or date takes (a row is as tall as its longest summary,
        # so the text's own line boxes are counted, not the cell's height).
        lines = page.evaluate("""[...document.querySelectorAll('td.nowrap')].map(td => {
            const range = document.createRange(); range.selectNodeContents(td);
            return range.getClientRects().length; })""")
        assert set(lines) == {1}, lines
        codes = page.locator("td.nowrap").all_inner_texts()
        assert all(receipt in codes for receipt in receipts) and any(re.fullmatch(r"2020-01-0\d", c) for c in codes)
        assert page.pdf(format="A4").startswith(b"%PDF")
    finally:
        context.close()
