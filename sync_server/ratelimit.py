"""Token buckets per client key: generous for honest bursts, firm against floods.

A bucket holds `burst` tokens and refills at `rate` per second; a request takes one.
When empty, the caller answers 429 with `Retry-After` set to the wait for one token.
Buckets that are full again are forgotten, so memory stays bounded by active clients.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Limit", "RateLimiter"]


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: int


class RateLimiter:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.limit, self.clock, self.max_keys = limit, clock, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Take one token for `key`: 0 if allowed, else seconds until it would be."""
        now = self.clock()
        tokens, stamp = self._buckets.get(key, (float(self.limit.burst), now))
        tokens = min(self.limit.burst, tokens + (now - stamp) * self.limit.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.limit.rate
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self.max_keys:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        horizon = self.limit.burst / self.limit.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < horizon}

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
