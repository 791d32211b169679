"""The server's edge: how many idle sockets it holds while still answering a health
check within a second, and what the rate limiter costs per request with 100k keys. The
smoke opens 50 sockets and fills the limiter with 1,000 keys."""

from __future__ import annotations

import os
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY, median_seconds
from minqing.server_process import ServerProcess
from sync_server.web.ratelimit import Limit, RateLimiter
from sync_server.web.serving import raise_descriptor_limit

# Steps of idle sockets; the last is a ceiling for the run's length, not for the server.
STEPS = (250, 500, 1000, 2000, 4000, 8000, 16000)
SMOKE_STEPS = (50,)
METRICS = ("idle_sockets_held", "ratelimit_us_100k")


def _answers_within_a_second(url: str) -> bool:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=1) as response:
            return response.status == 200 and time.monotonic() - started < 1
    except OSError:
        return False


def _idle_descriptors(pid: int) -> int:
    """The server's descriptors once the start's health check has closed its connection
    (it still counts for a moment after the start returns): the fewest over half a second."""
    counts = []
    for _ in range(10):
        counts.append(len(os.listdir(f"/proc/{pid}/fd")))
        time.sleep(0.05)
    return min(counts)


def _wait_until_accepted(pid: int, count: int, timeout: float = 20) -> None:
    # Answering "while they are open" means after the server took them off the backlog.
    deadline = time.monotonic() + timeout
    while len(os.listdir(f"/proc/{pid}/fd")) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def idle_sockets_held(site_dir: Path, steps: tuple[int, ...] = STEPS) -> float:
    limit = raise_descriptor_limit()
    held, idle = 0, []
    with tempfile.TemporaryDirectory() as folder:
        # A long header deadline, so the first sockets are still open when the last arrive.
        with ServerProcess(Path(folder) / "data", site_dir, SAMPLE_REGISTRY,
                           extra_args=("--header-timeout", "120")) as server:
            # Counted while the start's health check was still open, the baseline was one
            # too high and every step waited out its whole timeout before the check.
            baseline = _idle_descriptors(server.proc.pid)
            try:
                for step in steps:
                    if step + 50 > limit:
                        break
                    try:
                        while len(idle) < step:
                            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
                    except OSError:
                        break
                    _wait_until_accepted(server.proc.pid, baseline + step)
                    if not _answers_within_a_second(server.url):
                        break
                    held = step
            finally:
                for sock in idle:
                    sock.close()
    return float(held)


def ratelimit_us_100k(keys_held: int = 100_000, repeat: int = 5) -> float:
    now = [0.0]
    limiter = RateLimiter(Limit(rate=0.001, burst=5), clock=lambda: now[0], max_keys=keys_held)
    for i in range(keys_held):
        limiter.take(f"k{i}")
    keys = iter(range(10**9))

    def thousand_new_keys() -> None:
        for _ in range(1000):
            now[0] += 0.001
            limiter.take(f"new-{next(keys)}")

    return 1e6 * median_seconds(thousand_new_keys, repeat) / 1000


def run(site_dir: Path, smoke: bool = False) -> dict[str, float]:
    if smoke:
        return {"idle_sockets_held": idle_sockets_held(site_dir, SMOKE_STEPS), "ratelimit_us_100k": ratelimit_us_100k(1000, 1)}
    return {"idle_sockets_held": idle_sockets_held(site_dir), "ratelimit_us_100k": ratelimit_us_100k()}
