"""Token buckets per client key: generous for honest bursts, firm against floods.

A bucket holds `burst` tokens and refills at `rate` per second; a request takes one.
When empty, the caller answers 429 with `Retry-After` set to the wait for one token.

Buckets are kept in order of last use, so the ones at the front are the first to be
full again: each request forgets at most a couple of those (amortised O(1), however
many keys), and past `max_keys` the least recently used bucket goes even if not full.
A forgotten bucket starts full, which only a client holding that many fresh keys at
once could use; the address limit stands behind the device limit for that.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
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
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        # After this long unused, any bucket is full again and can be forgotten.
        self._horizon = limit.burst / limit.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token for `key`: 0 if allowed, else seconds until it would be."""
        now = self.clock()
        tokens, stamp = self._buckets.pop(key, (float(self.limit.burst), now))
        tokens = min(self.limit.burst, tokens + (now - stamp) * self.limit.rate)
        wait = 0.0
        if tokens < 1:
            wait = (1 - tokens) / self.limit.rate
        else:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        # Two per call keeps pace with one new key per call.
        for _ in range(2):
            if len(self._buckets) <= 1:
                return
            oldest = next(iter(self._buckets.values()))
            if len(self._buckets) <= self.max_keys and now - oldest[1] < self._horizon:
                return
            self._buckets.popitem(last=False)

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
