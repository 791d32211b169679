"""The citizen's look-up shows the office's own steps in words meant for the citizen."""

from __future__ import annotations

import pytest

from sync_server.intake.lookup import public_status

RECORD = {"received_at": "2026-11-20T01:00:00+00:00"}


@pytest.mark.parametrize("status, shown", [("returned", "已受理"), ("review", "办理中"), ("assigned", "已交办")])
def test_the_offices_inner_steps_read_as_the_citizens_stage(status, shown):
    entry = {"status": status, "updated_at": "2026-11-21T01:00:00+00:00", "public_reply": ""}
    assert public_status(RECORD, entry)["status"] == shown
