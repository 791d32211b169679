"""What a store keeps of when a record arrived: the minute, and no order within it.

Two reports a citizen wrote offline reach the server in one upload. Kept to the
millisecond, their shared `received_at` and their places side by side would tie them
to one browser as surely as a device id. So a store keeps `received_at` to the whole
minute (UTC, `YYYY-MM-DDTHH:MM:00+00:00`), which every record of that minute shares,
and places each new record at a random place among the records of its minute stored
just before it, so the order of a minute's records says nothing of who came with whom.

What the office reads of the time needs no more: lists and reports go by day, "new
since" by day, retention by days (a minute early at most), the receipt look-up by day;
the clock-skew flag is decided from the exact time before it is coarsened.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

__all__ = ["arrival_minute", "arrived", "minute_of", "place_in_minute"]


def arrival_minute(moment: datetime) -> str:
    """The stored form of an arrival time: its minute in UTC."""
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0).isoformat(timespec="seconds")


def minute_of(received_at: Any) -> str | None:
    if not isinstance(received_at, str):
        return None
    try:
        moment = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return arrival_minute(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


def arrived(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of `record` with its `received_at` cut to the minute (one that is not a
    time, as damage may leave, is kept as it is)."""
    out = dict(record)
    minute = minute_of(out.get("received_at"))
    if minute is not None:
        out["received_at"] = minute
    return out


def place_in_minute(stored: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`stored` followed by `new`, each new record put at a uniformly random place among
    the records of its minute at the end of the list (one after another, so the order of
    the whole minute is a uniformly random one). Nothing is dropped or doubled; records of
    earlier minutes keep their places. The minute's start is found once per minute met
    (a string comparison per record: what this version stores is already in its form)."""
    out = list(stored)
    minute, start = None, len(out)
    for record in new:
        mine = minute_of(record.get("received_at"))
        if mine is None:  # no time to hide among: stored after the rest
            out.append(record)
            minute = None
            continue
        if mine != minute:
            minute, start = mine, len(out)
            while start > 0 and _same_minute(out[start - 1].get("received_at"), mine):
                start -= 1
        out.insert(start + secrets.randbelow(len(out) - start + 1), record)
    return out


def _same_minute(received_at: Any, minute: Any) -> bool:
    return received_at == minute or minute_of(received_at) == minute
