"""Retention: phone numbers are kept only as long as the office needs them.

A phone goes `days_after_close` days after its record closed (办结, 回访, 不予受理,
合并), and at the latest `max_days` days after it was received, whatever its status:
a record nobody triaged does not keep a phone forever. With the phone go its consent
and its keyed `phone_fingerprint`, and `phone_removed` joins the record's flags, so
nothing left in the data folder lets anyone confirm a guessed number. Each segment
changed is replaced in one atomic write (see `Inbox.redact_phones`). Copies set aside as
damaged follow the same rules (`Submissions.redact_phones`, `forget_unreadable`).

The server runs this once a day by itself; `minqing inbox retention` runs it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["CLOSED", "RetentionPolicy", "due", "phone_removed", "run_retention", "without_phone"]

CLOSED = ("closed", "followed_up", "declined")
# Ten years: anything longer is a typing mistake, not a policy.
LONGEST_DAYS = 3650


@dataclass(frozen=True)
class RetentionPolicy:
    days_after_close: int = 30
    max_days: int = 180

    def __post_init__(self) -> None:
        for name, value, least in (("days after close", self.days_after_close, 0), ("maximum days", self.max_days, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= LONGEST_DAYS:
                raise ValueError(f"phone retention {name} must be a whole number from {least} to {LONGEST_DAYS}, not {value!r}")

    @property
    def longest(self) -> int:
        return max(self.days_after_close, self.max_days)


def _when(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def due(records, entries: dict[str, dict[str, Any]], policy: RetentionPolicy, now: datetime) -> set[str]:
    """Ids of the records whose phone must go now."""
    closed_before = now - timedelta(days=policy.days_after_close)
    received_before = now - timedelta(days=policy.max_days)
    ids = set()
    for record in records:
        if not (record.get("phone") or record.get("phone_fingerprint")):
            continue
        received = _when(record.get("received_at"))
        entry = entries.get(record["id"]) or {}
        closed = _when(entry.get("closed_at") or entry.get("updated_at")) if entry.get("status") in CLOSED else None
        if (received is not None and received < received_before) or (closed is not None and closed < closed_before):
            ids.add(record["id"])
    return ids


def run_retention(inbox, triage, policy: RetentionPolicy, now: datetime | None = None) -> int:
    """Remove the phones due now; returns how many records lost their phone."""
    now = now or datetime.now(timezone.utc)
    removed = inbox.redact_phones(due(inbox.records_with_phones(), triage.all(), policy, now))
    # What damage left unreadable cannot be searched for a phone: it goes at the longest limit.
    inbox.forget_unreadable(now - timedelta(days=policy.max_days))
    return removed


def phone_removed(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `record` without its phone, consent and phone digest, flagged so; a
    sealed record loses its sealed phone message, its text still opens."""
    return {**without_phone(record), "phone": None, "consent": False, "phone_fingerprint": None,
            "flags": [*record.get("flags", []), "phone_removed"]}


def without_phone(record: Mapping[str, Any]) -> dict[str, Any]:
    """Retention on a sealed record: drop the phone's envelope; the text still opens."""
    out = dict(record)
    if isinstance(out.get("sealed"), Mapping):
        out["sealed"] = {**out["sealed"], "phone": None}
    return out
