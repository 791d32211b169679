"""Office sessions: log-in, the session cookie, CSRF tokens and the log-in throttle.

Sessions live in the server's memory (a restart logs everyone out, which is fine for
an office); the cookie holds only a random token, HttpOnly and SameSite=Strict. Every
form carries the session's CSRF token, compared in constant time. After five failed
log-ins a name is locked for a quarter of an hour, and an address for twenty.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from ..accounts import Account, Accounts

__all__ = ["COOKIE", "LoginThrottle", "Session", "Sessions"]

COOKIE = "mq_office"
SESSION_SECONDS = 8 * 3600


@dataclass
class Session:
    user: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    accounts: Accounts
    clock: Callable[[], float] = time.time
    _by_token: dict[str, Session] = field(default_factory=dict)

    def start(self, account: Account) -> str:
        token = secrets.token_urlsafe(32)
        self._by_token[token] = Session(account.name, secrets.token_urlsafe(32), self.clock() + SESSION_SECONDS)
        return token

    def end(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)

    def current(self, request: Request) -> tuple[Account, Session] | None:
        token = request.cookies.get(COOKIE)
        session = self._by_token.get(token or "")
        if session is None or session.expires < self.clock():
            return None
        account = self.accounts.get(session.user)
        if account is None or account.disabled:
            self.end(token)
            return None
        return account, session

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), sent.encode())


@dataclass
class LoginThrottle:
    clock: Callable[[], float] = time.time
    per_name: int = 5
    per_address: int = 20
    window: float = 15 * 60
    _failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: str) -> deque:
        failures = self._failures[key]
        while failures and failures[0] < self.clock() - self.window:
            failures.popleft()
        return failures

    def locked(self, name: str, address: str) -> bool:
        return len(self._recent("n:" + name)) >= self.per_name or len(self._recent("a:" + address)) >= self.per_address

    def failed(self, name: str, address: str) -> None:
        for key in ("n:" + name, "a:" + address):
            self._recent(key).append(self.clock())

    def succeeded(self, name: str) -> None:
        self._failures.pop("n:" + name, None)
