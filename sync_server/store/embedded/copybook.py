"""Department copies on disk: an append-only log, `DATA_DIR/office/department_copies.log`.

Each `put` appends one line `{"put": {submission_id: {department: envelope}}}` and
fsyncs it: one small durable write, and the whole of one record's copies, so a record
never has half of a 改派 (the new department's copy without the old one's removal). A
torn last line after a crash is ignored and cut off before the next append (the triage
log's way, `tinystore.AppendLog`). Compacted like the triage log, atomically, once the
log holds many more lines than records. Another process reads from where it stopped.

Only envelopes go in (`check_copy`): the copies exist so that a department reads the
words without a sector key, and they must never be a way for words to reach the disk
in clear. The engine checks the shape only; the crypto is `sealing/dispatch_copies.py`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync_server.store.embedded import tinystore
from sync_server.store.interfaces import StoreLocked

__all__ = ["LOG_NAME", "CopyBook", "check_copy"]

LOG_NAME = "department_copies.log"
COMPACT_SLACK = 5000
_FIELDS = {"v", "suite", "kid", "department", "text"}


def check_copy(department: Any, copy: Any) -> dict[str, Any]:
    """The copy as stored, or a ValueError: an envelope filed under its own department."""
    if not isinstance(department, str) or not department:
        raise ValueError("a department copy is filed under a department id")
    if not isinstance(copy, Mapping) or set(copy) != _FIELDS:
        raise ValueError(f"a department copy holds exactly {', '.join(sorted(_FIELDS))}: never words in clear")
    if type(copy["v"]) is not int or not all(isinstance(copy[f], str) for f in ("suite", "kid", "department", "text")):
        raise ValueError("a department copy's v is a number and the rest strings")
    if copy["department"] != department:
        raise ValueError(f"a copy sealed for {copy['department']!r} filed under {department!r}")
    return dict(copy)


class CopyBook:
    def __init__(self, data_dir: str | Path, *, writer: bool = True) -> None:
        self.folder = Path(data_dir) / "office"
        self.log = tinystore.AppendLog(self.folder / LOG_NAME)
        self.writer = writer
        self.problems: list[str] = []
        self._copies: dict[str, dict[str, dict[str, Any]]] = {}
        self._lines = self._offset = 0
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        if writer:
            tinystore.private_dir(self.folder)

    def _read_new(self) -> None:
        stamp = self.log.stamp()
        if stamp == self._stamp:
            return
        if stamp is None or self._stamp is None or stamp[0] != self._stamp[0] or stamp[1] < self._offset:
            self._copies, self._lines, self._offset = {}, 0, 0  # new or compacted: from the start
        lines, self._offset, bad = self.log.read(self._offset)
        for line in lines:
            puts = line.get("put") if isinstance(line, dict) else None
            try:
                if not isinstance(puts, dict):
                    raise ValueError
                checked = {sid: {d: check_copy(d, c) for d, c in copies.items()} for sid, copies in puts.items()}
            except (ValueError, AttributeError):
                bad += 1
                continue
            self._take(checked)
        self._stamp = self.log.stamp()
        if bad:
            problem = f"office/{LOG_NAME} has {bad} unreadable lines (left out: those departments read the words " \
                      f"again once staff open the record)"
            if problem not in self.problems:
                self.problems.append(problem)

    def _load(self) -> None:
        if self.log.stamp() != self._stamp:
            with self._lock:
                self._read_new()

    def copies(self, submission_id: str) -> dict[str, dict[str, Any]]:
        self._load()
        return {d: dict(c) for d, c in self._copies.get(submission_id, {}).items()}

    def ids(self) -> set[str]:
        self._load()
        return set(self._copies)

    def __len__(self) -> int:
        self._load()
        return len(self._copies)

    def _take(self, checked: dict) -> None:
        """One line of the log, read back or just written: a record's copies whole, or none."""
        for sid, copies in checked.items():
            if copies:
                self._copies[sid] = copies
            else:
                self._copies.pop(sid, None)
        self._lines += 1

    def put(self, submission_id: str, copies: Mapping[str, Mapping[str, Any]]) -> None:
        self.put_many({submission_id: copies})

    def put_many(self, changes: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        """One line for every record given: all of them or none after a crash."""
        if not self.writer:
            raise StoreLocked("these department copies were opened read-only, or their store was closed")
        checked = {sid: {d: check_copy(d, c) for d, c in copies.items()} for sid, copies in changes.items()}
        with self._lock:
            self._read_new()
            checked = {sid: c for sid, c in checked.items() if c or sid in self._copies}
            if not checked:
                return  # nothing to remove: no line
            self.log.append({"put": checked})
            self._take(checked)
            self._stamp = self.log.stamp()
            self._offset = self._stamp[1] if self._stamp else 0
            if self._lines > len(self._copies) + COMPACT_SLACK:
                self.log.rewrite([{"put": {sid: c}} for sid, c in self._copies.items()])
                self._lines = len(self._copies)
                self._stamp = self.log.stamp()
                self._offset = self._stamp[1] if self._stamp else 0

    def close(self) -> None:
        self.writer = False
