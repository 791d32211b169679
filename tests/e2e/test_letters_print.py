"""The 工作建议函 and the 督办单 as they print: print media at the width of GB/T 9704's type
area on A4 (156 mm), nothing wider than the paper, receipts and dates on one line, the
annex on a page of its own, and a PDF of A4 pages. One server for the module."""

from __future__ import annotations

import shutil

import pytest

from minqing.server_process import ServerProcess
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.letterbook import LetterBook
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.conftest import SAMPLE_REGISTRY
from tests.sync_server.conftest import make_item, store_items

PASSWORD = "correct-horse-battery"
# A4 is 210 mm wide; GB/T 9704 leaves 28 mm left and 26 mm right: 156 mm at 96 px per inch.
TYPE_AREA_PX = round(156 / 25.4 * 96)
SUMMARY = "园区门口晚上有人聚集闹事，影响附近居民休息，需要公安和城管联合整治，并加强照明和巡逻"


def _rows(count: int) -> list[dict]:
    return [{"id": f"id-{n}", "receipt": f"K{n:03d}-7QX2", "sector": "社会治安", "post": "儒林工业园区民情哨",
             "summary": SUMMARY * (1 + n % 3), "deadline": "2026-12-31", "status": "办理中"} for n in range(count)]


def _letter(kind: str, rows: list[dict], **more) -> dict:
    return {"department": "police", "department_name": "区公安分局", "issuer": "金坛区扫黑除恶专项斗争领导小组办公室",
            "title": "关于商请区公安分局办理群众反映问题的工作建议函", "rows": rows, "matters": [r["id"] for r in rows],
            "body": "在扫黑除恶专项斗争中，我办通过“民情哨”收集到群众反映的问题线索。" * 3 + "\n\n特此函告。",
            "sent_on": "2026-12-08", "answer_due": "2026-12-23", "answer": None, "voided": False, "by": "amy",
            "by_display": "王干事", "at": "2026-12-08T10:00:00+08:00", "history": [], **more}


@pytest.fixture(scope="module")
def letters_server(tmp_path_factory, built_site):
    root = tmp_path_factory.mktemp("letters")
    registry, site, data = root / "stations.yml", root / "site", root / "data"
    shutil.copy(SAMPLE_REGISTRY, registry)
    shutil.copytree(built_site, site)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    items = [make_item(station_id="rulin-industrial-park", feeling=f"园区门口晚上有人聚集，第{n}条") for n in range(2)]
    store_items(data, registry, items)
    assigned = {**new_entry("2026-12-01T00:00:00+00:00"), "status": "assigned", "deadline": "2026-12-31",
                "track": "immediate", "department": "police", "lead": "区公安分局", "summary": "园区门口夜间聚集滋事"}
    TriageBook(data).put_many({item["id"]: assigned for item in items})
    book = LetterBook(data)
    book.issue("letter", 2026, _letter("letter", _rows(12)), lambda n: f"金扫黑办函〔2026〕{n}号")
    book.issue("supervision", 2026, _letter("supervision", _rows(1), requirements="请于本周内查明情况并书面报告。" * 4),
               lambda n: f"金扫黑办督〔2026〕{n}号")
    server = ServerProcess(data, site, registry).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, letters_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(letters_server.url + "/office/login")
    page.fill("input[name=name]", "amy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('收件箱')")
    yield page
    context.close()


def _printed(page, url: str, shot) -> None:
    page.set_viewport_size({"width": TYPE_AREA_PX, "height": 1100})
    page.emulate_media(media="print")
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= TYPE_AREA_PX
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('.sheet *')].map(e => e.getBoundingClientRect().right))")
    assert widest <= TYPE_AREA_PX + 0.5, widest
    page.screenshot(path=str(shot), full_page=True)
    assert page.pdf(format="A4", prefer_css_page_size=True).startswith(b"%PDF")


def test_the_letter_prints_within_the_a4_type_area_with_codes_on_one_line(page, letters_server, tmp_path):
    _printed(page, letters_server.url + "/office/letters/letter-2026-1/print", tmp_path / "letter.png")
    lines = page.evaluate("""[...document.querySelectorAll('td.code')].map(td => {
        const range = document.createRange(); range.selectNodeContents(td); return range.getClientRects().length; })""")
    assert len(lines) == 24 and set(lines) == {1}, lines
    assert page.locator(".sheet .number").inner_text() == "金扫黑办函〔2026〕1号"
    # The annex (the matters' table) starts a page of its own, as in the Word file.
    assert page.evaluate("getComputedStyle(document.querySelector('.annex')).breakBefore") == "page"
    assert page.locator(".toolbar").is_hidden()


def test_the_supervision_sheet_prints_within_the_a4_type_area(page, letters_server, tmp_path):
    _printed(page, letters_server.url + "/office/letters/supervision-2026-1/print", tmp_path / "sheet.png")
    assert page.locator(".sheet h1").inner_text() == "督 办 单"
    assert "请于本周内查明情况并书面报告。" in page.locator(".sheet dl").inner_text()


def test_staff_make_a_letter_in_the_browser_from_a_sectors_open_matters(page, letters_server):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(letters_server.url + "/office/letters/new")
    page.select_option("select[name=sector]", "public-order")
    page.fill("textarea[name=body]", "第一段。\n\n特此函告。")
    page.click("button:has-text('预览')")
    page.wait_for_selector("h1:has-text('预览工作建议函')")
    assert "金扫黑办函〔" in page.locator(".confirm").inner_text()
    page.click("button:has-text('确认发出')")
    page.wait_for_selector("text=已发出。")
    assert page.locator(".text").first.inner_text() == "第一段。\n\n特此函告。"  # line breaks survive the preview's round trip
    assert page.locator("tbody tr").count() == 2 and "园区门口夜间聚集滋事" in page.locator("tbody").inner_text()
    assert page.locator("[data-state]").first.get_attribute("data-state") == "sent"


PAGES = ["/office/letters", "/office/letters?kind=supervision", "/office/letters/letter-2026-1",
         "/office/letters/letter-2026-1/print", "/office/letters/supervision-2026-1",
         "/office/letters/supervision-2026-1/print", "/office/letters/new"]


@pytest.mark.parametrize("width", [360, 1280])
def test_the_letters_pages_have_no_serious_accessibility_violation(browser, letters_server, width):
    from tests.e2e.test_accessibility import _serious

    # bypass_csp: axe is injected as an inline script, which the office's policy forbids.
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(letters_server.url + "/office/login")
        page.fill("input[name=name]", "amy")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('收件箱')")
        found = {}
        for path in PAGES:
            page.goto(letters_server.url + path)
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            found[path] = _serious(page)
            if width == 360 and not path.endswith("/print"):  # the office's pages never scroll sideways on a phone
                found[path] += [f"scrolls sideways: {w}" for w in [page.evaluate("document.documentElement.scrollWidth")]
                                if w > width]
        assert found == {path: [] for path in PAGES}
    finally:
        context.close()
