"""Device cookies: a browser that has logged in as a name is known again, so strangers'
guesses at that name cannot lock its user out (OWASP's answer to lockout attacks).

After a right password the browser gets `mq_device_<name>`: the name, a random device
nonce, an expiry (90 days) and an HMAC over the three with a key of the server's own
(`office/device-cookies.key` in the data folder, made at first start, so the cookie
outlives a restart). It holds nothing secret: it only says "this browser logged in as
this name before". It gives no access: a log-in with it still needs the password. What it
buys is a throttle of its own (the device's failures, not the name's or the address's)
and a place in the password checks' queue that untrusted log-ins cannot fill.

The signature covers the account's session generation too: `set-password` and
`disable-user` end the trust of every browser, as they end every session. A forged,
altered, expired or other name's cookie names no device and the log-in is treated like
any other. Who holds the key (the data folder or a backup) can make cookies that name
devices, and so guess at the per-device pace from as many made-up devices as they like:
the key is as private as the rest of the data folder.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from sync_server.store.installation import keyed_digest, secret_file

__all__ = ["COOKIE_PREFIX", "DEVICE_SECONDS", "KEY_PATH", "DeviceCookies", "cookie_name"]

COOKIE_PREFIX = "mq_device_"
DEVICE_SECONDS = 90 * 24 * 3600
KEY_PATH = Path("office") / "device-cookies.key"
_PURPOSE = "office-device-cookie-v1"


def cookie_name(name: str) -> str:
    """One cookie per name a browser logged in as: a shared office computer keeps each."""
    return COOKIE_PREFIX + name


class DeviceCookies:
    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key, self.clock = key, clock

    @classmethod
    def of(cls, data_dir: str | Path, clock: Callable[[], float] = time.time) -> DeviceCookies:
        return cls(secret_file(Path(data_dir) / KEY_PATH), clock)

    def _signature(self, name: str, device: str, expires: str, generation: int) -> str:
        return keyed_digest(self._key, _PURPOSE, name, device, expires, str(generation))

    def issue(self, name: str, generation: int) -> str:
        """A new cookie value for a browser that has just logged in as `name`: a new device."""
        device, expires = secrets.token_urlsafe(16), str(int(self.clock()) + DEVICE_SECONDS)
        return ":".join((name, device, expires, self._signature(name, device, expires, generation)))

    def device(self, value: str | None, name: str, generation: int) -> str | None:
        """The device this cookie names, when it is one this server signed for `name` at
        this generation and it has not expired; otherwise None."""
        parts = (value or "").split(":")
        if len(parts) != 4:
            return None
        owner, device, expires, signature = parts
        expected = self._signature(owner, device, expires, generation)
        if not hmac.compare_digest(signature.encode(), expected.encode()) or owner != name:
            return None
        if not expires.isdigit() or int(expires) <= self.clock():
            return None
        return device
