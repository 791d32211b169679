"""The office inbox on disk: every submission the office received.

Layout: `DATA_DIR/inbox/segment-NNNNNN.json`, each a TinyDB file (see `tinystore`) of
at most `segment_size` submissions, append-only. A batch is written to the newest
segment in one atomic, durable write (temporary file, fsync, rename, fsync of the
folder), so after a crash a segment holds either the old or the new contents and
never half a batch. Because only the newest segment is rewritten,
storing a batch costs the same with a thousand or with a million records stored.

An in-memory index (id -> segment, fingerprints, receipt) answers the duplicate and
receipt checks without touching disk; it is rebuilt from the segments at open.

One writer per data folder: a writer holds an exclusive `flock` on `writer.lock` for
its lifetime; TinyDB is not safe with two writers. Readers (`inbox list`, backups)
take no lock: every file they read was replaced atomically, so each is whole.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tinystore
from .fingerprint import Fingerprints

__all__ = ["Inbox", "InboxLocked"]

TABLE = "submissions"
SEGMENT_SIZE = 1000
LOCK_NAME = "writer.lock"


class InboxLocked(RuntimeError):
    """Another process is already writing to this data folder."""


@dataclass(frozen=True)
class _Entry:
    segment: int
    fingerprints: Fingerprints
    receipt: str


class Inbox:
    def __init__(self, data_dir: str | Path, *, writer: bool = True, segment_size: int = SEGMENT_SIZE) -> None:
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / "inbox"
        self.segment_size = segment_size
        self._lock_fd: int | None = None
        self.folder.mkdir(parents=True, exist_ok=True)
        if writer:
            self._take_lock()
        for stale in self.folder.glob(".*.tmp"):
            if writer:  # leftovers of a write a crash interrupted; the rename never happened
                stale.unlink(missing_ok=True)
        self._index: dict[str, _Entry] = {}
        self._receipts: dict[str, str] = {}
        self._counts: dict[int, int] = {}
        for number in self._segment_numbers():
            records = self._segment_records(number)
            self._counts[number] = len(records)
            for record in records:
                self._remember(number, record)

    # -- lifecycle -------------------------------------------------------------------

    def _take_lock(self) -> None:
        fd = os.open(self.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InboxLocked(
                f"another minqing process is already writing to {self.data_dir} "
                "(a running server, or a second worker): stop it first, or use its API"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------

    def _segment_numbers(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("segment-*.json"))

    def _segment_path(self, number: int) -> Path:
        return self.folder / f"segment-{number:06d}.json"

    def _segment_records(self, number: int) -> list[dict[str, Any]]:
        return tinystore.read(self._segment_path(number), TABLE)

    def _remember(self, number: int, record: dict[str, Any]) -> None:
        self._index[record["id"]] = _Entry(number, Fingerprints.stored(record), record["receipt"])
        self._receipts[record["receipt"]] = record["id"]

    def __len__(self) -> int:
        return len(self._index)

    def fingerprint(self, submission_id: str) -> str | None:
        entry = self._index.get(submission_id)
        return entry.fingerprints.content if entry else None

    def fingerprints(self, submission_id: str) -> Fingerprints | None:
        """What the duplicate check compares (see `fingerprint`); None for an unknown id."""
        entry = self._index.get(submission_id)
        return entry.fingerprints if entry else None

    def receipt(self, submission_id: str) -> str | None:
        entry = self._index.get(submission_id)
        return entry.receipt if entry else None

    def receipt_owner(self, code: str) -> str | None:
        return self._receipts.get(code)

    def get(self, submission_id: str) -> dict[str, Any] | None:
        entry = self._index.get(submission_id)
        if entry is None:
            return None
        return next(r for r in self._segment_records(entry.segment) if r["id"] == submission_id)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored submission, in the order the server stored them."""
        for number in self._segment_numbers():
            yield from self._segment_records(number)

    # -- writing ---------------------------------------------------------------------

    def add(self, records: list[dict[str, Any]]) -> None:
        """Store new records in one atomic, durable write; all or none."""
        if not records:
            return
        if self._lock_fd is None:
            raise InboxLocked("this inbox was opened read-only")
        numbers = sorted(self._counts)
        number = numbers[-1] if numbers else 1
        if self._counts.get(number, 0) >= self.segment_size:
            number += 1
        tinystore.append(self._segment_path(number), records, TABLE)
        self._counts[number] = self._counts.get(number, 0) + len(records)
        for record in records:
            self._remember(number, record)

    def redact_phones(self, submission_ids: set[str]) -> int:
        """Remove the phone number from these records (retention); returns how many changed.

        The one write that touches closed segments: each affected segment is rewritten
        whole and atomically, like any other write.
        """
        if self._lock_fd is None:
            raise InboxLocked("this inbox was opened read-only")
        changed = 0
        for number in sorted({self._index[i].segment for i in submission_ids if i in self._index}):
            records = self._segment_records(number)
            hits = [r for r in records if r["id"] in submission_ids and r.get("phone")]
            if not hits:
                continue
            for record in hits:
                record["phone"], record["consent"] = None, False
            tinystore.replace_all(self._segment_path(number), records, TABLE)
            changed += len(hits)
        return changed

    def backup(self, dest: str | Path) -> int:
        """Copy a consistent snapshot into `dest` (a new folder); returns records copied.

        Closed segments never change and the open one is replaced atomically, so a copy
        taken while the server writes is the inbox as it was at some moment.
        """
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise FileExistsError(f"{dest} is not empty")
        (dest / "inbox").mkdir(parents=True, exist_ok=True)
        copied = 0
        for number in self._segment_numbers():
            target = dest / "inbox" / self._segment_path(number).name
            shutil.copyfile(self._segment_path(number), target)
            copied += tinystore.count(target, TABLE)
        return copied
