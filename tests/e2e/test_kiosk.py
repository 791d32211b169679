"""Kiosk mode on a volunteer's tablet: on and off per station, remembered, an empty
form for each citizen, and an export of the waiting records."""

from __future__ import annotations

import json

from tests.e2e.conftest import open_station, outbox_count, queue_offline, submit, wait_ready


def _kiosk_on(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-kiosk-toggle]")
    page.wait_for_load_state("load")
    wait_ready(page)
    assert page.locator("[data-kiosk-bar]").is_visible()


def test_after_a_submit_the_next_citizen_sees_an_empty_form_and_no_trace(world, context, page):
    open_station(page, world)
    _kiosk_on(page)
    context.set_offline(True)
    trail = page.evaluate("history.length")
    secret_feeling, secret_suggestion = "前一位群众的私密感受", "前一位群众的建议"
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=feeling]", secret_feeling)
    page.fill("textarea[name=suggestion]", secret_suggestion)
    page.click("summary")
    page.fill("input[name=phone]", "13912345678")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已保存在本机")
    assert page.input_value("textarea[name=feeling]") == ""
    assert page.input_value("textarea[name=suggestion]") == ""
    assert page.input_value("input[name=phone]") == ""
    assert not page.is_checked("input[name=consent]")
    assert page.locator("input[name=rating]:checked").count() == 0
    html = page.content()
    for trace in (secret_feeling, secret_suggestion, "13912345678"):
        assert trace not in html
    assert page.evaluate("history.length") == trail  # no entry to go back to
    assert page.get_attribute("form#feedback", "autocomplete") == "off"
    assert outbox_count(page) == 1


def test_kiosk_mode_is_remembered_across_reloads_and_can_be_turned_off(world, page):
    open_station(page, world)
    _kiosk_on(page)
    page.reload()
    wait_ready(page)
    assert page.locator("[data-kiosk-bar]").is_visible()
    page.goto(world.station_url("hebin-primary"))  # kiosk is for one station only
    wait_ready(page)
    assert not page.locator("[data-kiosk-bar]").is_visible()
    open_station(page, world)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-kiosk-toggle]")
    page.wait_for_load_state("load")
    wait_ready(page)
    assert not page.locator("[data-kiosk-bar]").is_visible()


def test_status_bar_shows_waiting_records_and_the_last_sync(world, context, page):
    open_station(page, world)
    _kiosk_on(page)
    bar = page.locator("[data-kiosk-bar]")
    context.set_offline(True)
    submit(page, "状态栏")
    page.wait_for_selector("text=已保存在本机")
    assert bar.locator("[data-outbox-count]").inner_text() == "1"
    context.set_offline(False)
    bar.locator("[data-sync-now]").click()
    page.wait_for_function("() => document.querySelector('[data-kiosk-bar] [data-outbox-count]').textContent === '0'")
    assert bar.locator("[data-last-sync]").inner_text() != "尚未同步"
    assert world.stored() == {"状态栏": 1}


def test_export_writes_a_file_holding_the_waiting_records_that_the_office_imports(world, context, page, tmp_path):
    open_station(page, world)
    _kiosk_on(page)
    queue_offline(context, page, [f"导出第{n}条" for n in range(3)])
    with page.expect_download() as download:
        page.click("[data-export]")
    path = tmp_path / "export.json"
    download.value.save_as(path)
    exported = json.loads(path.read_text("utf-8"))
    assert exported["format"] == "minqing-outbox-export"
    assert sorted(s["feeling"] for s in exported["submissions"]) == ["导出第0条", "导出第1条", "导出第2条"]

    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sync_server.cli", "inbox", "import", str(path),
                             "--server", world.server.url], capture_output=True, text=True)
    assert result.stdout.startswith("3 accepted")
    context.set_offline(False)
    page.click("[data-kiosk-bar] [data-sync-now]")
    page.wait_for_function("() => document.querySelector('[data-outbox-count]').textContent === '0'")
    assert world.stored() == {f"导出第{n}条": 1 for n in range(3)}
