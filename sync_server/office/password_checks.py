"""The queue for password hashing at log-in: one scrypt at a time, a few waiting, and a
busy answer for the rest instead of a queue that grows.

Each check is a scrypt of 128 MiB and about half a second (a log-in that succeeds does
two: the password, then the lock on the account's keys). Beside a large office index
two at once took the server past its memory target, so they run one at a time. A
log-in waiting here has given back its place under the cap on requests in flight
(`middleware.step_aside`): a flood of log-ins waits in this queue of its own, bounded,
and never takes the slots that uploads need.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio

__all__ = ["PasswordChecks", "PasswordChecksBusy"]


class PasswordChecksBusy(Exception):
    """No room to check a password soon: the log-in is answered 'busy, try again'."""


class PasswordChecks:
    def __init__(self, at_once: int = 1, waiting: int = 8, patience: float = 10.0) -> None:
        """`waiting` log-ins may queue behind the `at_once` being checked, each for at
        most `patience` seconds: `slot` raises `PasswordChecksBusy` at once when the
        queue is full, and when the patience of one in it runs out."""
        self._limiter = anyio.CapacityLimiter(at_once)
        self.waiting, self.patience = waiting, patience
        self._wanting = 0  # being checked, or waiting to be

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold the right to hash for the whole block (both checks of one log-in)."""
        if self._wanting >= self._limiter.total_tokens + self.waiting:
            raise PasswordChecksBusy
        self._wanting += 1
        try:
            acquired = False
            with anyio.move_on_after(self.patience):
                await self._limiter.acquire()
                acquired = True
            if not acquired:
                raise PasswordChecksBusy
            try:
                yield
            finally:
                self._limiter.release()
        finally:
            self._wanting -= 1

