"""Log-in under a flood: every try is counted before its password is checked, so
parallel guesses get no more checks than the promised free tries, and log-ins waiting
for the password hashing never take the request slots that uploads need."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.auth import LoginThrottle
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
        self.calls, self.bodies, self.hold_until = 0, bodies, hold_until
        self.guard, self.released = threading.Lock(), threading.Event()
        self.entered = threading.Event()
        real = Accounts.authenticate

        def held(accounts, name, password):
            with self.guard:
                self.calls += 1
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


def post_login(client, form, name: str, password: str, forwarded_for: str | None = None) -> int:
    token, cookie = form
    headers = {"Cookie": cookie} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {})
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


def test_a_log_in_with_no_room_to_check_its_password_is_told_to_retry_and_its_try_is_not_counted(
        settings, quick_scrypt, monkeypatch):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    app = create_app(settings)
    bodies = BodiesRead(app)
    checks = HeldChecks(monkeypatch, bodies, hold_until=1)
    with TestClient(bodies, base_url="http://127.0.0.1:8000") as client:
        app.state.password_checks = PasswordChecks(waiting=0)  # the one being checked, nobody behind it
        form = login_form(client)
        with ThreadPoolExecutor(1) as pool:
            holder = pool.submit(post_login, client, form, "bob", "wrong-password-1")
            try:
                assert checks.entered.wait(PATIENCE_S)
                token, cookie = form
                busy = [client.post("/office/login", data={"name": "amy", "password": "wrong-password-1",
                                                           "token": token}, headers={"Cookie": cookie})
                        for _ in range(8)]
            finally:
                checks.release()
            assert holder.result() == 401
        assert {answer.status_code for answer in busy} == {503}
        assert int(busy[0].headers["Retry-After"]) > 0 and "请稍等" in busy[0].text
        # Never checked, so never counted: amy's five free tries from here are all still there.
        assert [post_login(client, form, "amy", "wrong-password-1") for _ in range(6)] == [401] * 5 + [429]
        assert checks.calls == 1 + 5
