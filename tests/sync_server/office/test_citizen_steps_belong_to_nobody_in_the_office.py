"""The citizen's steps by receipt are written as by the actor named "citizen"
(`dispatch.rules.CITIZEN`). An office account may be created with that very name (the
account rules allow 2-32 of a-z 0-9 . _ -), and 撤回 (undo) is offered to whoever's
name matches the last step's `by`: that account can then take back a citizen's verdict.
Reviewer's tests."""

from __future__ import annotations

from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.intake.test_citizen_api import close, lookup, verdict
from tests.sync_server.office.test_pages import PASSWORD, act, login, seed


def test_no_office_account_can_take_back_a_citizens_verdict(settings, quick_scrypt):
    from starlette.testclient import TestClient

    from sync_server.app import create_app

    accounts = Accounts(settings.data_dir)
    try:
        accounts.add("citizen", PASSWORD, "staff", "王干事")
    except Exception:  # the name is reserved: nobody can pose as the citizen
        return
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as office:
        record = seed(office)
        close(office, record["id"])
        assert verdict(office, record["receipt"]).json()["status"] == "accepted"
        login(office, "citizen")
        act(office, record["id"], "undo")
        entry = office.app.state.triage.entry(record["id"])
        assert entry["verdict"] is not None and entry["verdict"]["choice"] == "dissatisfied"
        assert entry["dissatisfied"] is True
        assert lookup(office, record["receipt"])["verdict"]["choice"] == "不满意"
