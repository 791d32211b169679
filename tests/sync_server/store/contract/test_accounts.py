"""The accounts' promises (`interfaces.Accounts`), held against every engine."""

from __future__ import annotations

import pytest

from sync_server.store import Accounts
from sync_server.store.accounts import AccountError

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def _quick(quick_scrypt):
    # The stated cost is tested in tests/sync_server/office/test_auth.py; at 128 MiB a hash
    # it would only make this contract slow.
    return quick_scrypt


def test_the_accounts_are_the_seams(place):
    assert isinstance(place.accounts(), Accounts)
    with place.open() as store:
        assert isinstance(store.accounts, Accounts)


def test_an_added_account_is_seen_by_another_handle_and_logs_in(place):
    place.accounts().add("amy", PASSWORD, "department", "王", ["hebin"], "区教育局")
    accounts = place.accounts()
    amy = accounts.get("amy")
    assert (amy.role, amy.display, amy.sectors, amy.department, amy.disabled) == ("department", "王", ("hebin",), "区教育局", False)
    assert accounts.names() == ["amy"]
    assert accounts.authenticate("amy", PASSWORD) == amy
    assert accounts.authenticate("amy", "wrong password") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


def test_a_name_is_taken_once_and_bad_accounts_are_refused(place):
    accounts = place.accounts()
    accounts.add("amy", PASSWORD, "staff")
    for bad in (("amy", PASSWORD, "staff"), ("Amy!", PASSWORD, "staff"), ("bob", "short", "staff"),
                ("bob", PASSWORD, "boss"), ("bob", PASSWORD, "department")):
        with pytest.raises(AccountError):
            accounts.add(*bad)
    assert accounts.names() == ["amy"]


def test_the_name_the_history_gives_citizens_is_no_accounts(place):
    # The citizen's verdicts and answers are written as by "citizen": an account of that
    # name would look like the citizen in every history, and could take their steps back.
    with pytest.raises(AccountError, match="reserved"):
        place.accounts().add("citizen", PASSWORD, "staff")


def test_a_new_password_or_disabling_ends_sessions_and_keeps_the_name(place):
    accounts = place.accounts()
    accounts.add("amy", PASSWORD, "staff")
    first = accounts.get("amy").generation
    accounts.set_password("amy", "another long password")
    assert accounts.authenticate("amy", PASSWORD) is None
    assert accounts.get("amy").generation > first
    accounts.disable("amy")
    assert accounts.get("amy").disabled and accounts.authenticate("amy", "another long password") is None
    assert place.accounts().names() == ["amy"]
    with pytest.raises(AccountError):
        accounts.set_password("nobody", PASSWORD)


def test_an_account_change_from_beside_a_running_writer_is_seen_by_it(place):
    with place.open() as store:
        assert store.accounts.get("amy") is None
        place.accounts().add("amy", PASSWORD, "staff")
        assert store.accounts.get("amy").role == "staff"
        assert store.problems() == []
