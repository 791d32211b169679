"""The log-in throttle and sessions: a guesser slows itself, not the real user; memory
stays bounded; changing a password or disabling an account ends its sessions."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.auth import LoginThrottle
from sync_server.sealing.keyring import SCRYPT
from sync_server.store.accounts import AccountError, hash_parameters
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.office.test_pages import PASSWORD, login


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


def test_set_password_and_disable_user_end_sessions_in_the_running_server(settings, quick_scrypt):
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


def test_a_change_to_users_json_is_seen_even_when_its_mtime_is_unchanged(settings, quick_scrypt):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    served = Accounts(settings.data_dir)
    assert served.get("amy").disabled is False
    users = settings.data_dir / "office" / "users.json"
    before = users.stat()
    Accounts(settings.data_dir).disable("amy")
    os.utime(users, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert served.get("amy").disabled is True


def test_a_user_name_with_a_trailing_newline_is_refused(settings, quick_scrypt):
    with pytest.raises(AccountError):
        Accounts(settings.data_dir).add("amy\n", PASSWORD, "staff")


def test_sessions_per_user_are_capped_and_the_newest_one_works(settings, quick_scrypt):
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


def _legacy_hash(password: str) -> str:
    # What accounts.py wrote before the parameters were stored: scrypt N=2^14, r=8, p=1.
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def test_the_log_in_check_costs_what_the_key_lock_costs(settings):
    # A stolen users.json must not be a cheaper way to guess a password than the key lock.
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff")
    assert hash_parameters(accounts.file.get("amy")["password"]) == SCRYPT


def test_an_old_hash_still_logs_in_and_is_upgraded_by_that_log_in(settings):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff")
    accounts.file.put("amy", {**accounts.file.get("amy"), "password": _legacy_hash(PASSWORD)})
    old = accounts.file.get("amy")["password"]
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert login(client, "amy", "wrong-password-here").status_code == 401
        assert Accounts(settings.data_dir).file.get("amy")["password"] == old  # a failure changes nothing
        assert login(client, "amy").status_code == 303
        assert client.get("/office/records", follow_redirects=False).status_code == 200  # the session survives
    record = Accounts(settings.data_dir).file.get("amy")
    assert hash_parameters(record["password"]) == SCRYPT and record.get("generation", 0) == 0
    assert Accounts(settings.data_dir).authenticate("amy", PASSWORD) is not None


def test_an_upgrade_never_undoes_a_password_changed_meanwhile(settings, quick_scrypt):
    # The server upgrades the hash it checked; the command line set a new password after
    # that check. The upgrade must not write the old password back.
    served = Accounts(settings.data_dir)
    served.add("amy", PASSWORD, "staff")
    served.file.put("amy", {**served.file.get("amy"), "password": _legacy_hash(PASSWORD)})
    checked = served.file.get("amy")["password"]
    Accounts(settings.data_dir).set_password("amy", "another-long-password")
    served.upgrade_hash("amy", checked, PASSWORD)
    assert Accounts(settings.data_dir).authenticate("amy", PASSWORD) is None
    assert Accounts(settings.data_dir).authenticate("amy", "another-long-password") is not None



def test_log_ins_arriving_together_check_their_passwords_one_at_a_time(settings, monkeypatch):
    # Each check is a scrypt of 128 MiB: two at once beside a large office index took the
    # server past its memory target. The checks take about half a second each, so three
    # log-ins sent together overlap unless the server queues them.
    import re
    import threading
    from concurrent.futures import ThreadPoolExecutor

    accounts = Accounts(settings.data_dir)
    for name in ("amy", "bob", "cat"):
        accounts.add(name, PASSWORD, "staff")
    inside, most, guard = [0], [0], threading.Lock()
    real = Accounts.authenticate

    def counted(self, name, password):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return real(self, name, password)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(Accounts, "authenticate", counted)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        forms = []
        for name in ("amy", "bob", "cat"):  # three browsers: each its own login token and cookie
            page = client.get("/office/login")
            cookie = "; ".join(f"{key}={value}" for key, value in page.cookies.items())
            forms.append((name, re.search(r'name="token" value="([^"]+)"', page.text).group(1), cookie))
        client.cookies.clear()

        def log_in(form):
            # Each browser's cookie as its own header: the client's shared jar (filled by
            # the other log-ins' answers) never adds to an explicit Cookie header.
            name, token, cookie = form
            return client.post("/office/login", data={"name": name, "password": PASSWORD, "token": token},
                               headers={"Cookie": cookie}, follow_redirects=False).status_code

        with ThreadPoolExecutor(3) as pool:
            assert list(pool.map(log_in, forms)) == [303, 303, 303]
    assert most[0] == 1


def test_a_try_is_counted_when_it_is_let_through_before_its_result_is_known():
    throttle = LoginThrottle(clock=Clock())
    assert [throttle.reserve("amy", "198.51.100.66") for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_right_passwords_take_their_tries_back_so_a_busy_office_address_is_never_slowed():
    throttle = LoginThrottle(clock=Clock())
    for i in range(100):  # the whole office logging in through one address, morning after morning
        assert throttle.reserve(f"user{i % 7}", "203.0.113.10") == 0
        throttle.succeeded(f"user{i % 7}", "203.0.113.10")
    assert throttle.wait("user0", "203.0.113.10") == 0 and throttle.wait("newcomer", "203.0.113.10") == 0
    for i in range(100):  # and one name, logging in from many places
        assert throttle.reserve("amy", f"198.51.100.{i}") == 0
        throttle.succeeded("amy", f"198.51.100.{i}")
    assert throttle.wait("amy", "192.0.2.1") == 0


def test_a_try_that_found_no_room_counts_against_its_address_and_name_but_keeps_the_pairs_free_checks():
    throttle = LoginThrottle(clock=Clock())
    for _ in range(4):  # a few busy answers: the pair's five checks are all still there
        assert throttle.reserve("amy", "198.51.100.66") == 0
        throttle.found_busy("amy", "198.51.100.66")
    assert [throttle.reserve("amy", "198.51.100.66") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    for i in range(20):  # made-up names from one address: a flood is not free
        assert throttle.reserve(f"nobody{i}", "198.51.100.99") == 0
        throttle.found_busy(f"nobody{i}", "198.51.100.99")
    assert throttle.wait("nobody-new", "198.51.100.99") > 0
    for i in range(20):  # one name from many addresses
        assert throttle.reserve("cat", f"203.0.113.{i}") == 0
        throttle.found_busy("cat", f"203.0.113.{i}")
    assert throttle.wait("cat", "203.0.113.200") > 0


def test_a_trusted_device_counts_only_its_own_failures_and_is_held_by_no_other_count():
    throttle = LoginThrottle(clock=Clock())
    for i in range(40):  # the name from many addresses, and the device's address sprayed too
        throttle.failed("amy", f"198.51.100.{i}")
        throttle.failed(f"user{i}", "192.0.2.7")
    assert throttle.wait("amy", "192.0.2.7") > 0
    assert [throttle.reserve("amy", "192.0.2.7", device="laptop") for _ in range(6)] == [0, 0, 0, 0, 0, 1]
    assert throttle.reserve("amy", "192.0.2.7", device="phone") == 0
    throttle.succeeded("amy", "192.0.2.7", device="phone")
    assert throttle.reserve("amy", "192.0.2.7", device="phone") == 0
    # A device's tries add nothing to the name's or the address's counts.
    quiet = LoginThrottle(clock=Clock())
    for _ in range(50):
        quiet.reserve("amy", "192.0.2.7", device="laptop")
    assert quiet.wait("amy", "192.0.2.7") == 0 and quiet.wait("bob", "192.0.2.7") == 0
