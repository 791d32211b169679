"""Log-in under a flood: every try is counted before its password is checked, so
parallel guesses get no more checks than the promised free tries, and log-ins waiting
for the password hashing never take the request slots that uploads need."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.auth import LoginThrottle
from sync_server.office.device_cookies import DEVICE_SECONDS, DeviceCookies, cookie_name
from sync_server.office.password_checks import PasswordChecks
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.conftest import make_item, post_batch

PASSWORD = "correct-horse-battery"
PATIENCE_S = 60  # only a safety net: every wait below ends on a positive signal first


class BodiesRead:
    """The app, counting the log-in posts whose whole body it has read. From that moment
    a log-in runs, without yielding to any other request, to where it waits for its
    password check: so when the count is N, N log-ins have passed (or met) the throttle."""

    def __init__(self, app) -> None:
        self.app, self.count, self.changed = app, 0, threading.Condition()

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            if (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/office/login"
                    and message["type"] == "http.request" and not message.get("more_body")):
                with self.changed:
                    self.count += 1
                    self.changed.notify_all()
            return message

        await self.app(scope, counted, send)

    def wait_for(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, timeout=PATIENCE_S)


class HeldChecks:
    """`Accounts.authenticate`, counted, and each call held until `release` (or until
    `bodies` has seen `hold_until` log-ins): the checks of a flood overlap for certain."""

    def __init__(self, monkeypatch, bodies: BodiesRead, hold_until: int) -> None:
        self.calls, self.bodies, self.hold_until, self.names = 0, bodies, hold_until, []
        self.guard, self.released = threading.Lock(), threading.Event()
        self.entered = threading.Event()
        real = Accounts.authenticate

        def held(accounts, name, password):
            with self.guard:
                self.calls += 1
                self.names.append(name)
            self.entered.set()
            self.bodies.wait_for(self.hold_until)
            self.released.wait(PATIENCE_S)
            return real(accounts, name, password)

        monkeypatch.setattr(Accounts, "authenticate", held)

    def release(self) -> None:
        self.released.set()


def login_form(client) -> tuple[str, str]:
    page = client.get("/office/login")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    cookie = "; ".join(f"{key}={value}" for key, value in page.cookies.items())
    client.cookies.clear()
    return token, cookie


def post_login(client, form, name: str, password: str, forwarded_for: str | None = None, device: str = "") -> int:
    """One browser's log-in: its form's token and cookie, and `device`, a device cookie it keeps ("name=value")."""
    token, cookie = form
    headers = {"Cookie": "; ".join(filter(None, (cookie, device)))} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
    return client.post("/office/login", data={"name": name, "password": password, "token": token},
                       headers=headers, follow_redirects=False).status_code


# (names, addresses, the promise): the README's and docs/accounts.md's free tries.
FLOODS = {
    "one name from one address": (["amy"] * 20, ["198.51.100.66"] * 20, 5),
    "many names from one address": ([f"user{i}" for i in range(30)], ["198.51.100.66"] * 30, 20),
    "one name from many addresses": (["amy"] * 30, [f"198.51.100.{i}" for i in range(30)], 20),
}


@pytest.mark.parametrize("names, addresses, promised", FLOODS.values(), ids=FLOODS)
def test_parallel_wrong_guesses_get_no_more_password_checks_than_the_free_tries(
        settings, quick_scrypt, monkeypatch, names, addresses, promised):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    # Behind a trusted proxy on this machine, so each guess can come from its own address.
    app = create_app(replace(settings, trust_forwarded_for=("127.0.0.1",)))
    bodies = BodiesRead(app)
    checks = HeldChecks(monkeypatch, bodies, hold_until=len(names))
    with TestClient(bodies, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000)) as client:
        # A clock that stands still: no back-off runs out while the flood is in, so every
        # check past the promise is one the throttle let through, not one time allowed.
        app.state.login_throttle = LoginThrottle(clock=lambda: 1_000_000.0)
        # Room for the whole flood in the hashing queue: only the throttle may refuse here.
        app.state.password_checks = PasswordChecks(waiting=len(names))
        form = login_form(client)
        checks.release()  # each check still waits until every guess has met the throttle
        with ThreadPoolExecutor(len(names)) as pool:
            statuses = list(pool.map(lambda pair: post_login(client, form, pair[0], "wrong-password-1", pair[1]),
                                     zip(names, addresses, strict=True)))
    assert checks.calls <= promised, f"{checks.calls} guesses reached the password check"
    assert statuses.count(401) == checks.calls and statuses.count(429) == len(names) - checks.calls


def test_a_flood_of_log_ins_does_not_make_a_concurrent_upload_busy(settings, quick_scrypt, monkeypatch):
    cap = 6
    names = [f"user{i}" for i in range(cap)]
    app = create_app(replace(settings, max_concurrent_requests=cap))
    bodies = BodiesRead(app)
    checks = HeldChecks(monkeypatch, bodies, hold_until=len(names))
    with TestClient(bodies, base_url="http://127.0.0.1:8000") as client:
        form = login_form(client)
        with ThreadPoolExecutor(len(names)) as pool:
            flood = [pool.submit(post_login, client, form, name, "wrong-password-1") for name in names]
            try:
                # Every log-in is in, and one check holds the hashing: the rest wait for it.
                assert bodies.wait_for(len(names)) and checks.entered.wait(PATIENCE_S)
                upload = post_batch(client, [make_item()])
            finally:
                checks.release()
            statuses = [f.result() for f in flood]
    assert upload.status_code == 200, upload.text
    assert [r["status"] for r in upload.json()["results"]] == ["accepted"]
    assert set(statuses) <= {401, 503}


def test_a_log_in_with_no_room_to_check_its_password_is_told_to_retry_and_counts_against_its_address_and_name(
        settings, quick_scrypt, monkeypatch):
    # A try that found the queue full used to be withdrawn: a flood cost nothing. Now it
    # counts against its address and its name (not against the pair, whose five free
    # tries promise five password checks).
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    app = create_app(replace(settings, trust_forwarded_for=("127.0.0.1",)))
    bodies = BodiesRead(app)
    checks = HeldChecks(monkeypatch, bodies, hold_until=1)
    with TestClient(bodies, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000)) as client:
        app.state.login_throttle = LoginThrottle(clock=lambda: 1_000_000.0)
        app.state.password_checks = PasswordChecks(waiting=0)  # the one being checked, nobody behind it
        form = login_form(client)
        with ThreadPoolExecutor(1) as pool:
            holder = pool.submit(post_login, client, form, "bob", "wrong-password-1", "192.0.2.1")
            try:
                assert checks.entered.wait(PATIENCE_S)
                token, cookie = form
                busy = [client.post("/office/login", data={"name": "amy", "password": "wrong-password-1",
                                                           "token": token},
                                    headers={"Cookie": cookie, "X-Forwarded-For": "198.51.100.66"})
                        for _ in range(8)]
                # made-up names from one address, then one name from many: each busy answer counted
                sprayed = [post_login(client, form, f"nobody{i}", "guess", "198.51.100.99") for i in range(20)]
                spread = [post_login(client, form, "cat", "guess", f"203.0.113.{i}") for i in range(20)]
                assert post_login(client, form, "nobody-new", "guess", "198.51.100.99") == 429
                assert post_login(client, form, "cat", "guess", "203.0.113.200") == 429
            finally:
                checks.release()
            assert holder.result() == 401
        assert {answer.status_code for answer in busy} == {503} and set(sprayed) == set(spread) == {503}
        assert int(busy[0].headers["Retry-After"]) > 0 and "请稍等" in busy[0].text
        # Never checked: amy's five free checks from that address are all still there.
        assert [post_login(client, form, "amy", "wrong-password-1", "198.51.100.66") for _ in range(6)] == \
            [401] * 5 + [429]
        assert checks.calls == 1 + 5


def device_cookie_of(client, name: str, forwarded_for: str | None = None) -> str:
    """Log in once as `name` and keep what the browser keeps: its device cookie ("name=value")."""
    token, cookie = login_form(client)
    headers = {"Cookie": cookie} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
    answer = client.post("/office/login", data={"name": name, "password": PASSWORD, "token": token},
                         headers=headers, follow_redirects=False)
    client.cookies.clear()
    assert answer.status_code == 303
    sent = [value for value in answer.headers.get_list("set-cookie") if value.startswith(cookie_name(name) + "=")]
    assert len(sent) == 1, answer.headers.get_list("set-cookie")
    attributes = sent[0].lower()
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/office" in attributes
    assert f"max-age={DEVICE_SECONDS}" in attributes
    return sent[0].split(";")[0]


def test_a_user_on_a_trusted_device_logs_in_while_a_flood_of_untrusted_log_ins_fills_the_queue(
        settings, quick_scrypt, monkeypatch):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    app = create_app(settings)
    bodies = BodiesRead(app)
    with TestClient(bodies, base_url="http://127.0.0.1:8000") as client:
        device = device_cookie_of(client, "amy")  # an earlier day's log-in, before the flood
        checks = HeldChecks(monkeypatch, bodies, hold_until=1)
        app.state.password_checks = PasswordChecks(waiting=1)
        form = login_form(client)
        with ThreadPoolExecutor(3) as pool:
            flood = [pool.submit(post_login, client, form, "bob", "wrong-password-1")]
            try:
                assert checks.entered.wait(PATIENCE_S)
                flood.append(pool.submit(post_login, client, form, "carl", "wrong-password-1"))
                assert bodies.wait_for(1 + 2)  # carl waits in the queue: it is full
                # Without its device cookie, amy's browser meets the full queue like anyone.
                assert post_login(client, form, "amy", PASSWORD) == 503
                trusted = pool.submit(post_login, client, form, "amy", PASSWORD, None, device)
                assert bodies.wait_for(1 + 4)  # amy's trusted log-in is in, waiting or answered
            finally:
                checks.release()
            assert trusted.result() == 303
            assert [f.result() for f in flood] == [401, 401]
    assert checks.names == ["bob", "amy", "carl"]  # ahead of the untrusted one that was waiting


def test_a_user_on_a_trusted_device_logs_in_while_strangers_lock_out_the_name_even_after_a_restart(
        settings, quick_scrypt):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    behind_proxy = replace(settings, trust_forwarded_for=("127.0.0.1",))
    with TestClient(create_app(behind_proxy), base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000)) as client:
        device = device_cookie_of(client, "amy", "203.0.113.10")  # at the office, before the restart
    app = create_app(behind_proxy)  # the restart: nothing in memory of amy's places
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000)) as client:
        app.state.login_throttle = LoginThrottle(clock=lambda: 1_000_000.0)
        form = login_form(client)
        assert [post_login(client, form, "amy", "wrong-guess-1", f"198.51.100.{i}") for i in range(20)] == [401] * 20
        # Without the device cookie, the name's lock holds, at the office's address too.
        assert post_login(client, form, "amy", PASSWORD, "203.0.113.10") == 429
        assert post_login(client, form, "amy", PASSWORD, "192.0.2.7") == 429
        # Her browser, from an address it never used: let through.
        assert post_login(client, form, "amy", PASSWORD, "192.0.2.7", device) == 303


def _expired(data_dir, value):
    return DeviceCookies.of(data_dir, clock=lambda: time.time() - DEVICE_SECONDS - 60).issue("amy", 0)


def _other_users(data_dir, value):
    return DeviceCookies.of(data_dir).issue("bob", 0)


def _altered(data_dir, value):
    name, device, expires, signature = value.split(":")
    return ":".join((name, device[::-1], expires, signature))


def _forged(data_dir, value):
    return f"amy:{'A' * 22}:{int(time.time()) + 3600}:{'0' * 64}"


def _old_password(data_dir, value):
    Accounts(data_dir).set_password("amy", PASSWORD)  # the same password, set again: a new generation
    return value


BAD_COOKIES = {"expired": _expired, "another user's": _other_users, "altered": _altered, "forged": _forged,
               "from before set-password": _old_password}


@pytest.mark.parametrize("bad", BAD_COOKIES.values(), ids=BAD_COOKIES)
def test_a_bad_device_cookie_gives_no_privilege(settings, quick_scrypt, bad):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    Accounts(settings.data_dir).add("bob", PASSWORD, "staff")
    app = create_app(replace(settings, trust_forwarded_for=("127.0.0.1",)))
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 40000)) as client:
        good = device_cookie_of(client, "amy", "203.0.113.10")
        app.state.login_throttle = LoginThrottle(clock=lambda: 1_000_000.0)
        form = login_form(client)
        assert [post_login(client, form, "amy", "wrong-guess-1", f"198.51.100.{i}") for i in range(20)] == [401] * 20
        bad_value = bad(settings.data_dir, good.split("=", 1)[1])
        assert post_login(client, form, "amy", PASSWORD, "192.0.2.7", f"{cookie_name('amy')}={bad_value}") == 429
        if bad is not _old_password:  # the control: her genuine cookie is let through
            assert post_login(client, form, "amy", PASSWORD, "192.0.2.8", good) == 303


def test_a_trusted_device_is_slowed_by_its_own_failures_and_no_other_devices(settings, quick_scrypt):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        laptop, phone = device_cookie_of(client, "amy"), device_cookie_of(client, "amy")
        app.state.login_throttle = LoginThrottle(clock=lambda: 1_000_000.0)
        form = login_form(client)
        assert [post_login(client, form, "amy", "wrong-guess-1", None, laptop) for _ in range(6)] == [401] * 5 + [429]
        assert post_login(client, form, "amy", PASSWORD, None, laptop) == 429
        assert post_login(client, form, "amy", PASSWORD, None, phone) == 303
