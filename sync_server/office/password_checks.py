"""The queue for password hashing at log-in: one scrypt at a time, a few waiting, and a
busy answer for the rest instead of a queue that grows.

Each check is a scrypt of 128 MiB and about half a second (a log-in that succeeds does
two: the password, then the lock on the account's keys). Beside a large office index
two at once took the server past its memory target, so they run one at a time. A
log-in waiting here has given back its place under the cap on requests in flight
(`middleware.step_aside`): a flood of log-ins waits in this queue of its own, bounded,
and never takes the slots that uploads need.

Log-ins from trusted devices (a valid device cookie, see `device_cookies`) wait in a
small queue of their own and are served first whenever the hashing is free: a flood of
untrusted log-ins, however large, can make a trusted one wait at most for the check
under way, never refuse it. Both queues are bounded, and hashing stays one at a time.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator

import anyio

__all__ = ["PasswordChecks", "PasswordChecksBusy"]


class PasswordChecksBusy(Exception):
    """No room to check a password soon: the log-in is answered 'busy, try again'."""


class PasswordChecks:
    def __init__(self, at_once: int = 1, waiting: int = 8, trusted_waiting: int = 4, patience: float = 10.0) -> None:
        """`waiting` untrusted log-ins and `trusted_waiting` trusted ones may queue behind
        the `at_once` being checked, each for at most `patience` seconds: `slot` raises
        `PasswordChecksBusy` at once when its queue is full, and when the patience of one
        in it runs out. When a check ends, the next trusted log-in goes first."""
        self.at_once, self.patience = at_once, patience
        self._room = {True: trusted_waiting, False: waiting}
        self._queues: dict[bool, deque[anyio.Event]] = {True: deque(), False: deque()}
        self._checking = 0

    @property
    def wanting(self) -> int:
        """Log-ins being checked or waiting to be."""
        return self._checking + len(self._queues[True]) + len(self._queues[False])

    @contextlib.asynccontextmanager
    async def slot(self, trusted: bool = False) -> AsyncIterator[None]:
        """Hold the right to hash for the whole block (both checks of one log-in)."""
        if self._checking < self.at_once and not (self._queues[True] or self._queues[False]):
            self._checking += 1
        else:
            await self._wait_turn(self._queues[trusted], self._room[trusted])
        try:
            yield
        finally:
            self._hand_on()

    async def _wait_turn(self, queue: deque[anyio.Event], room: int) -> None:
        if len(queue) >= room:
            raise PasswordChecksBusy
        turn = anyio.Event()
        queue.append(turn)
        try:
            with anyio.move_on_after(self.patience):
                await turn.wait()
        except BaseException:  # cancelled (the client went away): give back what it was handed
            if turn.is_set():
                self._hand_on()
            else:
                queue.remove(turn)
            raise
        if not turn.is_set():
            queue.remove(turn)
            raise PasswordChecksBusy
        # Handed on by the check that ended: the count of checks under way already holds it.

    def _hand_on(self) -> None:
        for queue in (self._queues[True], self._queues[False]):
            if queue:
                queue.popleft().set()
                return
        self._checking -= 1
