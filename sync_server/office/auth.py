"""Office sessions: log-in, the session cookie, CSRF tokens and the log-in throttle.

Sessions live in the server's memory (a restart logs everyone out, which is fine for
an office); the cookie holds only a random token, HttpOnly and SameSite=Strict. Every
form carries the session's CSRF token, compared in constant time. A session ends when
the account's session generation moves on (`set-password`, `disable-user`).

Failed log-ins slow down the guesser; the user, at an address they have logged in from,
is held up only by failures from that same address, and in a browser that has logged in
as them (a device cookie, `device_cookies`) only by that browser's own failures: see
`LoginThrottle`. A try is counted before its password is checked, so guesses sent in
parallel are counted too.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from sync_server.store.accounts import Account
from sync_server.store.interfaces import Accounts

__all__ = ["COOKIE", "MAX_SESSIONS_PER_USER", "LoginThrottle", "Session", "Sessions"]

COOKIE = "mq_office"
SESSION_SECONDS = 8 * 3600
# A person uses a few browsers; a script logging in again and again (or a browser that
# drops its cookie) must not grow the server's memory for 8 hours. Past this, the
# user's oldest session ends.
MAX_SESSIONS_PER_USER = 10


@dataclass
class Session:
    user: str
    csrf: str
    expires: float
    generation: int = 0


@dataclass
class Sessions:
    accounts: Accounts
    clock: Callable[[], float] = time.time
    # Told of every session that ends (logout, expiry, a changed account), so what the
    # session held in memory (its unlocked keys) goes with it.
    on_end: Callable[[str], None] | None = None
    _by_token: dict[str, Session] = field(default_factory=dict)

    def start(self, account: Account) -> str:
        token = secrets.token_urlsafe(32)
        self._forget_expired()
        mine = [t for t, s in self._by_token.items() if s.user == account.name]  # oldest first (dict order)
        for old in mine[: max(0, len(mine) - MAX_SESSIONS_PER_USER + 1)]:
            self.end(old)  # through `end`, so its unlocked keys go with it
        self._by_token[token] = Session(account.name, secrets.token_urlsafe(32), self.clock() + SESSION_SECONDS,
                                        account.generation)
        return token

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if s.expires < now]:
            self.end(token)

    def sweep(self) -> None:
        """End expired sessions and those whose account was disabled, removed or given a
        new password meanwhile (by the command line, in another process): their holders
        may never come back, and what they unlocked must not wait for the 8-hour expiry."""
        self._forget_expired()
        for token, session in list(self._by_token.items()):
            account = self.accounts.get(session.user)
            if account is None or account.disabled or account.generation != session.generation:
                self.end(token)

    def end(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)
        if self.on_end is not None and token:
            self.on_end(token)

    def current(self, request: Request) -> tuple[Account, Session] | None:
        token = request.cookies.get(COOKIE)
        session = self._by_token.get(token or "")
        if session is None or session.expires < self.clock():
            if session is not None:
                self.end(token)
            return None
        account = self.accounts.get(session.user)
        if account is None or account.disabled or account.generation != session.generation:
            self.end(token)
            return None
        return account, session

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), sent.encode())


class _Failures:
    """Failure counts by key, in order of last failure, at most `size` keys.

    Keys quiet for `forget_after` go first, a couple per call; past `size` the least
    recently failing goes even so. Each kind of key has its own table, so spraying many
    names cannot push one's own address out of the address table.
    """

    def __init__(self, size: int, forget_after: float) -> None:
        self.size, self.forget_after = size, forget_after
        self._table: OrderedDict[object, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def get(self, key: object) -> tuple[int, float]:
        return self._table.get(key, (0, 0.0))

    def add(self, key: object, now: float) -> None:
        count, _ = self._table.pop(key, (0, 0.0))
        self._table[key] = (count + 1, now)
        self._trim(now)

    def take_back(self, key: object) -> None:
        """Undo one `add` (a try counted in advance that was right, or never checked);
        its time and place in the order stay, so nothing is forgotten sooner for it."""
        if key in self._table:
            count, stamp = self._table[key]
            self._table[key] = (max(0, count - 1), stamp)

    def mark(self, key: object, now: float) -> None:
        self._table.pop(key, None)
        self._table[key] = (0, now)
        self._trim(now)

    def clear(self, key: object) -> None:
        self._table.pop(key, None)

    def _trim(self, now: float) -> None:
        for _ in range(2):
            if not self._table:
                return
            _, stamp = next(iter(self._table.values()))
            if len(self._table) <= self.size and now - stamp < self.forget_after:
                return
            self._table.popitem(last=False)


@dataclass
class LoginThrottle:
    """Growing waits after failed log-ins, per (name, address) pair first.

    Each try is counted as a failure when it is let through (`reserve`), before its
    password is checked, in the same step as the check of the limit: twenty guesses
    sent at once get the five free checks, not twenty. A right password takes its try
    back (`succeeded`). A try that found no room to check its password (`found_busy`)
    stays counted against its address and its name, so a flood is not free, but not
    against the pair, whose free tries are checks of a password.

    - A pair gets `free` failures, then waits `base` seconds, doubling with each further
      failure up to `cap`. A guesser at one address slows only itself: the real user at
      another address logs in as usual.
    - An address gets `free_address` failures over all names (spraying), then the same.
    - A name failing from many addresses (at least `free_name` failures in all) is slowed
      to one try per `name_interval` seconds, but only from addresses that have never
      logged in as that name: the user's usual places are not held up by strangers.
    - A try from a trusted device (a browser with a valid device cookie for the name)
      is counted only against that device, `free` failures and then the same waits:
      no stranger's count holds it up, and its tries add to no other count. This memory
      of places lives in the server only; the device's lives in the browser, so it
      outlives a restart and follows the user to a new address.
    Every table is bounded; counts are forgotten after `forget_after` quiet seconds.
    """

    clock: Callable[[], float] = time.time
    free: int = 5
    free_address: int = 20
    free_name: int = 20
    base: float = 1.0
    cap: float = 15 * 60
    name_interval: float = 10.0
    forget_after: float = 24 * 3600
    size: int = 10_000

    def __post_init__(self) -> None:
        self._pairs = _Failures(self.size, self.forget_after)
        self._addresses = _Failures(self.size, self.forget_after)
        self._names = _Failures(self.size, self.forget_after)
        # (name, device) pairs: only a browser the server signed a cookie for makes one.
        self._devices = _Failures(self.size, self.forget_after)
        # (name, address) pairs that logged in: kept for 30 days.
        self._familiar = _Failures(self.size, 30 * 24 * 3600)
        # The server calls it from its event loop only; the lock keeps `reserve` one step
        # for any caller on another thread too.
        self._lock = threading.Lock()

    def _backoff(self, count: int, last: float, free: int, now: float) -> float:
        if count < free:
            return 0.0
        delay = min(self.cap, self.base * 2 ** min(count - free, 30))
        return max(0.0, last + delay - now)

    def wait(self, name: str, address: str) -> float:
        """Seconds before this name may be tried from this address: 0 to go ahead."""
        now = self.clock()
        waits = [
            self._backoff(*self._pairs.get((name, address)), self.free, now),
            self._backoff(*self._addresses.get(address), self.free_address, now),
        ]
        if (name, address) not in self._familiar:
            count, last = self._names.get(name)
            if count >= self.free_name:
                waits.append(max(0.0, last + self.name_interval - now))
        return max(waits)

    def reserve(self, name: str, address: str, device: str | None = None) -> float:
        """Seconds before this name may be tried from this address (or this trusted
        device); when 0, this try is counted as a failure now, before its password is
        checked."""
        with self._lock:
            if device is not None:
                now = self.clock()
                wait = self._backoff(*self._devices.get((name, device)), self.free, now)
                if wait <= 0:
                    self._devices.add((name, device), now)
                return wait
            wait = self.wait(name, address)
            if wait <= 0:
                self.failed(name, address)
            return wait

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        self._pairs.add((name, address), now)
        self._addresses.add(address, now)
        if (name, address) not in self._familiar:
            self._names.add(name, now)

    def found_busy(self, name: str, address: str, device: str | None = None) -> None:
        """A reserved try that found no room to check its password: it stays counted
        against its address and name (a flood that is never checked is not free), but
        the pair's free tries are for checks of a password, and a trusted device's
        busy answer is not its failure."""
        with self._lock:
            if device is not None:
                self._devices.take_back((name, device))
            else:
                self._pairs.take_back((name, address))

    def succeeded(self, name: str, address: str, device: str | None = None) -> None:
        with self._lock:
            if device is not None:
                self._devices.clear((name, device))
            else:
                self._take_back(name, address)
                self._pairs.clear((name, address))
            self._familiar.mark((name, address), self.clock())

    def _take_back(self, name: str, address: str) -> None:
        self._pairs.take_back((name, address))
        self._addresses.take_back(address)
        if (name, address) not in self._familiar:
            self._names.take_back(name)
