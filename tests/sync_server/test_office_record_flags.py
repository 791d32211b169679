"""The office's record page says when the device's clock was wrong, so staff read the
submission time with care (the record itself is never refused for it)."""

from __future__ import annotations

from tests.sync_server.test_office import login, office, seed  # noqa: F401 - `office` is a fixture


def test_a_record_from_a_device_with_a_wrong_clock_is_marked_on_its_page(office):  # noqa: F811
    skewed = seed(office, created_at="1970-01-01T08:00:05+08:00")
    normal = seed(office)
    login(office, "amy")
    assert "设备时钟异常" in office.get(f"/office/records/{skewed['id']}").text
    assert "设备时钟异常" not in office.get(f"/office/records/{normal['id']}").text
