"""Triage entries on disk: an append-only log, `DATA_DIR/office/triage.log`.

A status change appends one line and fsyncs it: one small durable write, whatever the
number of entries. `put_many` is one line holding every entry it changes, so a merge is
on both records or on neither. After a crash the log holds every acknowledged change and
at most a torn last line, which is ignored (and cut off before the next append).

Now and then the log is compacted: rewritten with one line per entry, through the same
atomic replace as every other file. A log from before (`office/triage.json`, a TinyDB
file) is migrated on open, atomically: the new log is written whole, then the old file
is removed.

Other processes (reports from the command line while the server writes) read the same
log: a grown log is read from where they stopped, a compacted one from the start.

Entries are kept and handed out in their compact, read-only form
(`triageentry.TriageEntry`): the book and the office's read side share them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sync_server.store.embedded import tinystore
from sync_server.store.embedded.triageentry import TriageEntry, freeze, thaw
from sync_server.store.interfaces import StoreLocked
from sync_server.triage import completed, damage

__all__ = ["LOG_NAME", "TriageBook"]

LOG_NAME = "triage.log"
LEGACY_NAME = "triage.json"
# Compact once the log holds this many more lines than entries.
COMPACT_SLACK = 5000


class TriageBook:
    """Triage entries by submission id. `on_change(entries)` is called after every write
    with the entries it stored (a dict id -> entry), for a read-side index to follow."""

    def __init__(self, data_dir: str | Path,
                 on_change: Callable[[dict[str, TriageEntry]], None] | None = None, *, load: bool = True,
                 writer: bool = True) -> None:
        """`load=False` reads the log at its first use instead: the server reads it beside
        the running server, since uploads do not need it (a second at 100,000 records).
        `writer=False` reads beside the writer: it creates, migrates and copies nothing,
        and refuses to write (`StoreLocked`)."""
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / "office"
        self.on_change = on_change
        self.log = tinystore.AppendLog(self.folder / LOG_NAME)
        self.problems: list[str] = []
        self._entries: dict[str, TriageEntry] = {}
        self._lines = 0
        self._offset = 0
        self._stamp: tuple[int, int] | None = None
        self._damaged = False
        self._lock = threading.Lock()
        self.writer = writer
        if writer:
            tinystore.private_dir(self.folder)
            self._migrate()
        if load:
            self._load()

    # -- reading ---------------------------------------------------------------------

    def _migrate(self) -> None:
        legacy = self.folder / LEGACY_NAME
        if not legacy.exists():
            return
        if self.log.stamp() is None:
            try:
                entries = tinystore.KeyedFile(legacy, self.data_dir)
            except OSError:
                return
            if entries.problem:
                self.problems.append(entries.problem)
            self.log.rewrite([{"put": {key: value}} for key, value in entries.items().items()])
        # The log is whole and durable: the old file is a leftover (also after a crash here).
        legacy.unlink(missing_ok=True)

    def _load(self) -> None:
        if self.log.stamp() == self._stamp:
            return
        with self._lock:  # one reader at a time: two would read the same lines twice
            self._read_new()

    def _read_new(self) -> None:
        """Read what the log gained since the last read (all of it after a compaction)."""
        stamp = self.log.stamp()
        if stamp == self._stamp:
            if stamp is None and not self.writer and not self._entries:
                self._read_legacy()  # a writer migrates it at its next start
            return
        if stamp is None or self._stamp is None or stamp[0] != self._stamp[0] or stamp[1] < self._offset:
            self._entries, self._lines, self._offset = {}, 0, 0  # new or compacted: from the start
        lines, self._offset, bad = self.log.read(self._offset)
        for line in lines:
            puts = line.get("put") if isinstance(line, dict) else None
            if not isinstance(puts, dict):
                bad += 1
                continue
            # An entry that parses but cannot be used costs that entry alone (named below).
            sound = {key: completed(value) for key, value in puts.items() if damage(value) is None}
            bad += len(puts) - len(sound)
            self._entries.update({key: freeze(value) for key, value in sound.items()})
            self._lines += 1
        self._stamp = self.log.stamp()
        if bad:
            self._damaged = True
            problem = f"office/{LOG_NAME} is damaged ({bad} unreadable lines or entries, left out; the rest is served)"
            if self.writer:  # a reader changes no file: the writer keeps the copy
                kept = tinystore.quarantine(self.log.path, self.data_dir, move=False)
                problem += f"; a copy is in {kept.relative_to(self.data_dir)}"
            if problem not in self.problems:
                self.problems.append(problem)

    def _read_legacy(self) -> None:
        legacy = self.folder / LEGACY_NAME
        if not legacy.exists():
            return
        try:
            entries = tinystore.KeyedFile(legacy, self.data_dir)
        except OSError:
            return
        if entries.problem and entries.problem not in self.problems:
            self.problems.append(entries.problem)
        self._entries = {key: freeze(completed(value)) for key, value in entries.items().items() if damage(value) is None}

    def entry(self, submission_id: str) -> TriageEntry | None:
        """The stored entry, or None while the record is still 已收到 and untouched."""
        self._load()
        return self._entries.get(submission_id)

    def all(self) -> dict[str, TriageEntry]:
        self._load()
        return dict(self._entries)

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    # -- writing ---------------------------------------------------------------------

    def put(self, submission_id: str, entry: Mapping[str, Any]) -> TriageEntry:
        return self.put_many({submission_id: entry})[submission_id]

    def put_many(self, entries: Mapping[str, Mapping[str, Any]]) -> dict[str, TriageEntry]:
        """Store several entries in one atomic write: a merge changes two records or none.
        Returns them as stored, for the read side to share."""
        if not entries:
            return {}
        self._writable()
        # A writer's dict may hold steps of a stored history: the log gets plain JSON.
        plain = {key: thaw(value) for key, value in entries.items()}
        stored = {key: freeze(value) for key, value in plain.items()}
        with self._lock:
            self._read_new()
            if self._damaged:
                self._compact()  # drop the unreadable lines before adding to the log
            self.log.append({"put": plain})
            self._entries.update(stored)
            self._lines += 1
            self._stamp = self.log.stamp()
            self._offset = self._stamp[1] if self._stamp else 0
            if self._lines > len(self._entries) + COMPACT_SLACK:
                self._compact()
        if self.on_change is not None:
            self.on_change(dict(stored))
        return stored

    def compact(self) -> None:
        """Rewrite the log with one line per entry (atomic); the same entries."""
        self._writable()
        with self._lock:
            self._read_new()
            self._compact()

    def _writable(self) -> None:
        if not self.writer:
            raise StoreLocked("this triage log was opened read-only, or its store was closed")

    def close(self) -> None:
        """No more writes through this book (its store let the writer lock go)."""
        self.writer = False

    def _compact(self) -> None:
        self.log.rewrite([{"put": {key: thaw(value)}} for key, value in self._entries.items()])
        self._lines, self._damaged = len(self._entries), False
        self._stamp = self.log.stamp()
        self._offset = self._stamp[1] if self._stamp else 0
