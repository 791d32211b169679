"""Device cookies: signed by the server, naming one user and one browser, valid across
restarts for a bounded time; anything forged, altered, expired or for another name (or
for a password since changed) names no device."""

from __future__ import annotations

import pytest

from sync_server.office.device_cookies import DEVICE_SECONDS, DeviceCookies, cookie_name


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_cookie_names_its_device_for_its_user_and_a_new_one_names_another_device(tmp_path):
    cookies = DeviceCookies.of(tmp_path)
    first, second = cookies.issue("amy", 0), cookies.issue("amy", 0)
    assert cookies.device(first, "amy", 0) and cookies.device(second, "amy", 0)
    assert cookies.device(first, "amy", 0) != cookies.device(second, "amy", 0)


def test_a_cookie_survives_a_restart_but_not_another_installation(tmp_path):
    value = DeviceCookies.of(tmp_path / "data").issue("amy", 0)
    assert DeviceCookies.of(tmp_path / "data").device(value, "amy", 0)  # the key is on disk, not in memory
    assert DeviceCookies.of(tmp_path / "other").device(value, "amy", 0) is None


def _altered(value: str, part: int, to: str) -> str:
    parts = value.split(":")
    parts[part] = to
    return ":".join(parts)


@pytest.mark.parametrize("tamper", [
    lambda v: _altered(v, 0, "bob"),  # another name, the rest kept
    lambda v: _altered(v, 1, "A" * 22),  # another device
    lambda v: _altered(v, 2, str(int(v.split(":")[2]) + 10 ** 9)),  # a later expiry
    lambda v: _altered(v, 3, "0" * 64),  # a made-up signature
    lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),  # one character of the signature
    lambda v: "",
    lambda v: "amy",
    lambda v: v + ":extra",
], ids=["name", "device", "expiry", "signature", "one-char", "empty", "no-parts", "extra-part"])
def test_a_forged_or_altered_cookie_names_no_device(tmp_path, tamper):
    cookies = DeviceCookies.of(tmp_path)
    value = cookies.issue("amy", 0)
    assert cookies.device(tamper(value), "amy", 0) is None
    assert cookies.device(tamper(value), "bob", 0) is None


def test_another_users_cookie_names_no_device_for_this_user(tmp_path):
    cookies = DeviceCookies.of(tmp_path)
    assert cookies.device(cookies.issue("bob", 0), "amy", 0) is None


def test_a_cookie_expires_after_its_days(tmp_path):
    clock = Clock()
    cookies = DeviceCookies.of(tmp_path, clock=clock)
    value = cookies.issue("amy", 0)
    clock.now += DEVICE_SECONDS - 1
    assert cookies.device(value, "amy", 0)
    clock.now += 2
    assert cookies.device(value, "amy", 0) is None


def test_a_new_password_ends_the_devices_trusted_with_the_old_one(tmp_path):
    cookies = DeviceCookies.of(tmp_path)
    assert cookies.device(cookies.issue("amy", 0), "amy", 1) is None


def test_the_cookie_holds_no_secret_and_its_name_says_whose_it_is(tmp_path):
    cookies = DeviceCookies.of(tmp_path)
    value = cookies.issue("amy", 0)
    key = (tmp_path / "office" / "device-cookies.key").read_bytes()
    assert key.hex() not in value and len(value.split(":")) == 4
    assert cookie_name("amy") == "mq_device_amy"
    assert (tmp_path / "office" / "device-cookies.key").stat().st_mode & 0o077 == 0
