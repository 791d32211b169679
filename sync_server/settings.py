"""Server settings: one frozen object the app factory takes. Every field is in docs/deploy.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from minqing.registry import DEFAULT_REGISTRY
from sync_server.store.retention import RetentionPolicy
from sync_server.web.ratelimit import Limit

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    # Where the inbox lives; one server per folder.
    data_dir: Path = Path("data")
    # The built static site served at `/` (`minqing build` writes it).
    site_dir: Path = Path("build/site")
    # The station registry; reloaded when it changes.
    registry: Path = DEFAULT_REGISTRY
    # Other origins allowed to POST submissions (CORS, no credentials). Same-origin only when empty.
    allowed_origins: tuple[str, ...] = ()
    # Largest request body, and most submissions in one batch.
    max_body_bytes: int = 256 * 1024
    max_batch: int = 100
    # Uploads per device id and per client address. The address burst lets 25 tablets
    # behind one office address each send 1,000 queued records (10 batches) at once.
    device_limit: Limit = field(default_factory=lambda: Settings.device_limit_default())
    address_limit: Limit = field(default_factory=lambda: Settings.address_limit_default())
    # Receipt look-ups per address: slow enough that codes cannot be enumerated.
    lookup_limit: Limit = field(default_factory=lambda: Limit(rate=0.2, burst=10))
    # The reverse proxies you run (IP addresses or CIDR blocks). Only requests whose socket
    # comes from one of them have their client address taken from X-Forwarded-For and
    # their scheme from X-Forwarded-Proto. Empty: the socket's address, always.
    trust_forwarded_for: tuple[str, ...] = ()
    # Requests handled at once; past it, 503 at once rather than a growing queue.
    max_concurrent_requests: int = 200
    # Seconds a connection may take to send a request's headers, and may stay open idle
    # between requests (used by `minqing serve`, see `serving.py`).
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    # Seconds a request may take to send its whole body once its headers are in (408 past
    # it): a trickled body would otherwise hold its slot for ever. 256 KiB in 60 s is
    # 4.4 KB/s, slower than a poor 2G link.
    body_timeout: float = 60.0
    # Submissions per inbox segment file: bounds the cost of one write.
    segment_size: int = 1000
    # Phone numbers go this many days after their record closes, and at the latest this
    # many days after receipt whatever the status (0-3650 and 1-3650; checked at start).
    phone_days_after_close: int = 30
    phone_days_max: int = 180

    def __post_init__(self) -> None:
        self.retention  # noqa: B018 - refuse absurd retention periods at start, not a day later

    @property
    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(days_after_close=self.phone_days_after_close, max_days=self.phone_days_max)

    @staticmethod
    def device_limit_default() -> Limit:
        return Limit(rate=5.0, burst=60)

    @staticmethod
    def address_limit_default() -> Limit:
        return Limit(rate=20.0, burst=300)
