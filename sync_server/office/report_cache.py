"""Built meeting reports, reused while nothing they were made from has changed.

On the Monday of a meeting several people open the same pack; each build of a pack at
100,000 records costs the office's one worker thread most of a second (its XLSX cells
dominate). An entry is kept under what the report depends on besides the data (kind,
period, format, the reader's sectors, today's date, the registry object) and is valid
only while the read side's `version()` equals the one read *before* the build: a change
landing during a build leaves an entry that can only miss, never one that is stale.
Reports that quote words opened for one session (sealed records) or carry phone
numbers are never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["ReportCache"]


class ReportCache:
    """Entries of the current version only: a new version empties the cache, so it never
    holds more than one old read-side state alive (the version may carry the triage
    mapping itself)."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._version: object = None
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def _at(self, version: object) -> None:
        if self._version is None or self._version != version:
            self._entries.clear()
            self._version = version

    def get_or_build(self, key: Hashable, version: object, build: Callable[[], tuple[Any, bool]]) -> Any:
        """The value kept for `key` at `version`, else `build()`'s. `build` returns
        (value, keep): keep is False for a report that must not be shared (opened sealed
        words, phones). `version` must be read before anything the build reads."""
        with self._lock:
            self._at(version)
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value, keep = build()
        if keep:
            with self._lock:  # kept only if no newer version was seen meanwhile
                if self._version == version:
                    self._entries[key] = value
                    while len(self._entries) > self._size:
                        self._entries.popitem(last=False)
        return value
