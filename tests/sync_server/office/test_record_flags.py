"""The office's record page says when the device's clock was wrong, so staff read the
submission time with care (the record itself is never refused for it)."""

from __future__ import annotations

from tests.sync_server.office.test_pages import login, office, seed  # noqa: F401 - `office` is a fixture


def test_a_record_from_a_device_with_a_wrong_clock_is_marked_on_its_page(office):  # noqa: F811
    skewed = seed(office, created_at="1970-01-01T08:00:05+08:00")
    normal = seed(office)
    login(office, "amy")
    assert "设备时钟异常" in office.get(f"/office/records/{skewed['id']}").text
    assert "设备时钟异常" not in office.get(f"/office/records/{normal['id']}").text


def test_a_time_at_the_end_of_the_calendar_is_shown_as_sent_not_a_500():
    # The intake refuses such instants now, but a data folder from an older version may
    # hold one: moved to Beijing time it overflows, and every page showing it would 500.
    from sync_server.app import _china_time

    assert _china_time("9999-12-31T23:59:59+00:00") == "9999-12-31T23:59:59+00:00"
    assert _china_time("0001-01-01T00:00:00+14:00") == "0001-01-01T00:00:00+14:00"


def test_citizen_text_cannot_reverse_the_text_around_it_on_office_pages(office):  # noqa: F811
    # Right-to-left words (and marks, which the rules keep) must stay inside them: each
    # citizen text is isolated (<bdi>), so staff read the page around it in its own order.
    # The overrides themselves are refused since issue 20 (see test_sealed.py for the
    # words that arrive sealed with them anyway).
    sly = seed(office, feeling="\u200fمرحبا abc")
    login(office, "amy")
    for path in (f"/office/records/{sly['id']}", "/office/records"):
        text = office.get(path).text
        at = text.index("مرحبا")
        assert text.rfind("<bdi", 0, at) > text.rfind("</bdi>", 0, at), path
