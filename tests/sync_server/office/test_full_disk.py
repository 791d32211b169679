"""An office action on a full disk: its own Chinese page with status 507 that says
nothing was saved, never a bare 500; and the same action goes through once there is
room again."""

from __future__ import annotations

import errno
import logging

import pytest
from starlette.testclient import TestClient

from sync_server.store.embedded import tinystore
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, login, seed, status_of

office = test_office.office  # the same small office world

FULL = {
    "ENOSPC": errno.ENOSPC,
    "EDQUOT": errno.EDQUOT,
}


def fill_the_disk(monkeypatch, code: int) -> dict:
    """Every append to the office's logs fails as a full disk does, until `full["on"]` is False."""
    real, full = tinystore.AppendLog.append, {"on": True}

    def append(log, value):
        if full["on"]:
            raise OSError(code, "No space left on device")
        return real(log, value)

    monkeypatch.setattr(tinystore.AppendLog, "append", append)
    return full


@pytest.mark.parametrize("code", FULL.values(), ids=FULL)
@pytest.mark.parametrize("action, fields", [("accept", {}), ("reply", {"public_reply": "感谢您的反映。"})])
def test_an_office_action_on_a_full_disk_is_a_chinese_507_page_and_goes_through_later(
        office, monkeypatch, caplog, code, action, fields):
    record = seed(office)
    assert login(office, "amy").status_code == 303
    full = fill_the_disk(monkeypatch, code)
    caplog.set_level(logging.INFO)
    answer = act(office, record["id"], action, **fields)
    assert answer.status_code == 507
    assert answer.headers["content-type"].startswith("text/html") and answer.headers["cache-control"] == "no-store"
    assert "存储空间" in answer.text and "没有保存" in answer.text
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text
    assert status_of(office, record["id"]) == "已收到"  # accept did not happen
    full["on"] = False
    assert act(office, record["id"], action, **fields).status_code == 303


def test_another_storage_error_in_the_office_is_still_a_500(office, monkeypatch):
    # Only a full disk is named as one: an unreadable disk is not "no space".
    record = seed(office)
    assert login(office, "amy").status_code == 303
    fill_the_disk(monkeypatch, errno.EIO)
    # The fixture's client raises server errors; this one shows the page staff read.
    quiet = TestClient(office.app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False,
                       cookies=office.cookies)
    answer = act(quiet, record["id"], "accept")
    assert answer.status_code == 500 and "服务器出错了" in answer.text
