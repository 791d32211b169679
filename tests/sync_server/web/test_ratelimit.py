"""Token buckets: honest bursts pass, floods wait, and the cost per request stays flat
with a hundred thousand keys while memory stays bounded (the cost is measured in `make bench`: ratelimit_us_100k)."""

from __future__ import annotations

from sync_server.web.ratelimit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_rules():
    clock = Clock()
    limiter = RateLimiter(Limit(rate=1.0, burst=3), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 1.0
    clock.now += 1
    assert limiter.take("a") == 0
    assert limiter.take("b") == 0


def test_a_limited_key_is_still_limited_after_many_other_keys_come_and_go():
    clock = Clock()
    limiter = RateLimiter(Limit(rate=0.1, burst=2), clock=clock, max_keys=1000)
    limiter.take("flooder"), limiter.take("flooder")
    for i in range(500):
        limiter.take(f"other-{i}")
    assert limiter.take("flooder") > 0


def test_keys_that_are_full_again_are_forgotten_as_new_ones_arrive():
    clock = Clock()
    limiter = RateLimiter(Limit(rate=10.0, burst=10), clock=clock, max_keys=100_000)
    for i in range(1000):
        limiter.take(f"early-{i}")
    clock.now += 2  # every early bucket is full again
    for i in range(1000):
        limiter.take(f"late-{i}")
    assert len(limiter) == 1000


def test_memory_is_bounded_by_max_keys_even_when_every_key_is_active():
    limiter = RateLimiter(Limit(rate=0.001, burst=5), clock=Clock(), max_keys=1000)
    for i in range(5000):
        limiter.take(f"k{i}")
    assert len(limiter) <= 1000
