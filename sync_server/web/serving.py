"""Running the app on sockets that strangers can hold: timeouts, the descriptor limit,
and logs that stay small when the machine runs out of descriptors.

uvicorn closes idle keep-alive connections but has no deadline for a request's headers,
so a client that connects and says nothing (or one byte now and then) holds a socket
for ever. `TimedH11Protocol` adds that deadline (the body's is `requests.read_body`'s,
where a 408 can still be answered). The cap on requests in flight is an
ASGI wrapper (`ConcurrencyCap`, in the app) rather than uvicorn's `limit_concurrency`,
which also counts idle connections and would answer 503 to everyone while a thousand
idle sockets wait for their deadline.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["LoopErrorLog", "TimedH11Protocol", "no_core_dumps", "raise_descriptor_limit", "serve"]

log = logging.getLogger("minqing.serving")


class TimedH11Protocol(H11Protocol):
    """H11 with a deadline for each request's headers, counted from the connection
    (or from the first byte after a keep-alive response)."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._waiting_for_headers():
            self._arm_header_timer()
        super().data_received(data)
        if not self._waiting_for_headers():
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        # Between requests the keep-alive timer rules; a pipelined request already in
        # the buffer is parsed here, and one still partial gets the keep-alive deadline.
        self._cancel_header_timer()
        super().on_response_complete()

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def protocol_with(header_timeout: float) -> type[TimedH11Protocol]:
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": header_timeout})


def raise_descriptor_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit: each idle socket costs one descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class LoopErrorLog:
    """asyncio's exception handler, at most one line a second for each kind of error.

    Out of descriptors, the accept loop fails again on every turn; logged in full that
    was a quarter of a gigabyte in twenty seconds.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, every: float = 1.0) -> None:
        self.clock, self.every = clock, every
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        kind = f"{context.get('message', '')}|{type(exc).__name__}|{getattr(exc, 'errno', '')}"
        now = self.clock()
        if now - self._last.get(kind, float("-inf")) < self.every:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last[kind] = now
        if len(self._last) > 1000:
            self._last = {kind: now}
        skipped = self._suppressed.pop(kind, 0)
        if skipped:
            context = {**context, "message": f"{context.get('message', '')} ({skipped} like it in the last second not logged)"}
        loop.default_exception_handler(context)


def no_core_dumps() -> None:
    """A crash must not write the process's memory to the disk: while staff are logged in
    it holds their sector keys and the sealed words opened for search."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


def serve(app, host: str, port: int, header_timeout: float, keep_alive_timeout: float) -> None:
    raise_descriptor_limit()
    no_core_dumps()
    config = uvicorn.Config(
        app, host=host, port=port, workers=1, access_log=False, log_level="warning",
        http=protocol_with(header_timeout), timeout_keep_alive=keep_alive_timeout,
        # The address and scheme come from our own ForwardedFor, which knows the proxies.
        proxy_headers=False, backlog=4096,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(LoopErrorLog())
        await server.serve()

    asyncio.run(main())
