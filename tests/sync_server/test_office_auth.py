"""The log-in throttle and sessions: a guesser slows itself, not the real user; memory
stays bounded; changing a password or disabling an account ends its sessions."""

from __future__ import annotations

import os

import pytest
from starlette.testclient import TestClient

from sync_server.accounts import AccountError, Accounts
from sync_server.app import create_app
from sync_server.office.auth import LoginThrottle
from tests.sync_server.test_office import PASSWORD, login


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, name: str, address: str, times: int) -> None:
    for _ in range(times):
        throttle.failed(name, address)


def test_a_guesser_at_one_address_does_not_lock_out_the_user_at_another():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    fail(throttle, "amy", "198.51.100.66", 15)
    assert throttle.wait("amy", "198.51.100.66") > 0
    assert throttle.wait("amy", "203.0.113.10") == 0


def test_waits_grow_with_each_failure_and_are_capped():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    waits = []
    for _ in range(30):
        throttle.failed("amy", "198.51.100.66")
        waits.append(throttle.wait("amy", "198.51.100.66"))
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4] == 1 and waits[5] == 2 and waits[6] == 4
    assert max(waits) == throttle.cap
    clock.now += throttle.cap
    assert throttle.wait("amy", "198.51.100.66") == 0


def test_a_name_attacked_from_many_addresses_is_slowed_but_not_at_familiar_addresses():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    throttle.succeeded("amy", "203.0.113.10")  # the office
    for i in range(40):
        throttle.failed("amy", f"198.51.100.{i}")
    assert throttle.wait("amy", "198.51.100.200") > 0
    assert throttle.wait("amy", "203.0.113.10") == 0
    clock.now += throttle.name_interval
    assert throttle.wait("amy", "198.51.100.200") == 0


def test_spraying_names_from_one_address_makes_that_address_wait():
    throttle = LoginThrottle(clock=Clock())
    for i in range(25):
        throttle.failed(f"user{i}", "198.51.100.66")
    assert throttle.wait("someone-else", "198.51.100.66") > 0
    assert throttle.wait("someone-else", "203.0.113.10") == 0


def test_the_throttle_forgets_the_oldest_beyond_its_size_but_keeps_the_busiest_address():
    clock = Clock()
    throttle = LoginThrottle(clock=clock, size=100)
    for i in range(5000):
        clock.now += 0.001
        throttle.failed(f"user{i}", "198.51.100.66")
    tables = (throttle._pairs, throttle._addresses, throttle._names, throttle._familiar)
    assert all(len(table) <= 100 for table in tables)
    assert throttle.wait("anyone", "198.51.100.66") > 0


def test_set_password_and_disable_user_end_sessions_in_the_running_server(settings):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff")
    accounts.add("bob", PASSWORD, "staff")
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as amy:
        bob = TestClient(app, base_url="http://127.0.0.1:8000")  # a second browser, same server
        assert login(amy, "amy").status_code == 303 and login(bob, "bob").status_code == 303
        assert amy.get("/office/records", follow_redirects=False).status_code == 200
        # The command line writes users.json while the server runs.
        Accounts(settings.data_dir).set_password("amy", "another-long-password")
        Accounts(settings.data_dir).disable("bob")
        assert amy.get("/office/records", follow_redirects=False).status_code == 303
        assert bob.get("/office/records", follow_redirects=False).status_code == 303
        assert login(amy, "amy", "another-long-password").status_code == 303
        assert amy.get("/office/records", follow_redirects=False).status_code == 200


def test_a_change_to_users_json_is_seen_even_when_its_mtime_is_unchanged(settings):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    served = Accounts(settings.data_dir)
    assert served.get("amy").disabled is False
    users = settings.data_dir / "office" / "users.json"
    before = users.stat()
    Accounts(settings.data_dir).disable("amy")
    os.utime(users, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert served.get("amy").disabled is True


def test_a_user_name_with_a_trailing_newline_is_refused(settings):
    with pytest.raises(AccountError):
        Accounts(settings.data_dir).add("amy\n", PASSWORD, "staff")


def test_sessions_per_user_are_capped_and_the_newest_one_works(settings):
    # Logging in again and again (a script with a stolen password, or a browser that
    # drops its cookie) must not grow the server's memory for 8 hours: a user keeps at
    # most MAX_SESSIONS_PER_USER, the oldest ending first.
    from sync_server.office.auth import MAX_SESSIONS_PER_USER, Sessions

    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff")
    sessions = Sessions(accounts)
    account = accounts.get("amy")
    tokens = [sessions.start(account) for _ in range(MAX_SESSIONS_PER_USER * 50)]
    assert len(sessions._by_token) == MAX_SESSIONS_PER_USER
    assert tokens[-1] in sessions._by_token and tokens[0] not in sessions._by_token
