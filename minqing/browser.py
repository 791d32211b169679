"""Helpers shared by the browser tests and the benchmarks."""

from __future__ import annotations

import time

__all__ = ["CHROMIUM", "wait_until"]

CHROMIUM = "/usr/bin/chromium"


def wait_until(page, expression: str, timeout: float = 15.0, arg=None) -> None:
    """Poll an async page expression until it is truthy.

    `page.wait_for_function` takes a returned promise as truthy at once, so checks that
    need IndexedDB or the Cache API (both asynchronous) are polled from here.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)
