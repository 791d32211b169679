"""The office inbox on disk: every submission the office received.

Layout: `DATA_DIR/inbox/segment-NNNNNN.json`, each a TinyDB file (see `tinystore`),
append-only. A new segment starts once the newest holds `segment_size` submissions; a
batch is never split, so a segment may hold up to `segment_size - 1` plus one batch. A batch is written to the newest
segment in one atomic, durable write (temporary file, fsync, rename, fsync of the
folder), so after a crash a segment holds either the old or the new contents and
never half a batch. Storing a batch rewrites only the newest segment, which the inbox
keeps in memory, so it costs the same with a thousand or with a million records (older
segments are rewritten only by `rewrite`: retention, `keys seal-existing`).

An in-memory index (id -> segment, fingerprints, receipt) answers the duplicate and
receipt checks without touching disk. At open it is rebuilt from each closed segment's
summary (`segmentsummary`, written when the segment closed) where that summary matches
the segment as it is, and from the segment itself otherwise; the open (newest) segment
is always read whole.

Damage costs only the damaged file: a segment that does not parse is moved to
`DATA_DIR/quarantine/` by the writer (named in `problems`), and the rest is served;
`minqing check --repair` recovers what it can. The files themselves are `segments.py`'s;
one writer per data folder is `writerlock.py`'s.

This is the embedded engine's `Submissions` (see `store/interfaces.py`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sync_server.store.arrival import arrived, place_in_minute
from sync_server.store.embedded import leftovers, quarantine, segmentsummary, tinystore
from sync_server.store.embedded.segments import TABLE, SegmentCache, read_segment, scan, segment_path
from sync_server.store.embedded.writerlock import InboxLocked, take_writer_lock
from sync_server.store.fingerprint import Fingerprints
from sync_server.store.retention import phone_removed

__all__ = ["SEGMENT_SIZE", "TABLE", "Inbox", "InboxLocked"]

SEGMENT_SIZE = 1000


# What the index keeps of a record: (segment, receipt, then its `Fingerprints`' fields).
# A plain tuple, built at C speed from a segment summary's columns: 100,000 frozen
# dataclasses would cost a good part of a second at start and tens of megabytes.
_Entry = tuple[int, str, str, "str | None", bool, bool]


class Inbox:
    def __init__(self, data_dir: str | Path, *, writer: bool = True, segment_size: int = SEGMENT_SIZE,
                 on_open: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """`on_open(records)` is called with each segment's records as the inbox reads
        them at open: a read-side index fills itself from the same single read."""
        from sync_server.store.embedded.backup import refuse_incomplete_backup

        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / "inbox"
        self.segment_size = segment_size
        self._lock_fd: int | None = None
        # Retention (from the daily task) and intake (from the writer task) may write at
        # once, each from a worker thread: one write at a time.
        self._write_lock = threading.Lock()
        if writer:
            tinystore.private_dir(self.data_dir)
            refuse_incomplete_backup(self.data_dir, serving=True)
            tinystore.private_dir(self.folder)
            for folder in (self.data_dir, self.folder):  # folders an older version made 0755
                os.chmod(folder, 0o700)
            self._lock_fd = take_writer_lock(self.data_dir)
        else:
            refuse_incomplete_backup(self.data_dir, serving=False)
        try:
            self._open(writer, on_open)
        except BaseException:
            self.close()  # a failed open lets the writer lock go: the same process may retry
            raise

    def _open(self, writer: bool, on_open: Callable[[list[dict[str, Any]]], None] | None) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.damaged: list[Path] = []  # where each damaged segment is now (quarantined by a writer)
        self.quarantine = quarantine.Quarantine(self.data_dir)
        # Told of every record stored or changed (a list of records), after the write is
        # durable: for a read-side index to follow without rescanning. Set it after open.
        self.on_change: Callable[[list[dict[str, Any]]], None] | None = None
        self._index: dict[str, _Entry] = {}
        self._receipts: dict[str, str] = {}
        self._counts: dict[int, int] = {}
        self._open_number: int | None = None
        self._open_records: list[dict[str, Any]] = []
        self._cache = SegmentCache(self.folder)
        self.leftovers_removed = leftovers.sweep(self.data_dir) if writer else []
        numbers = scan(self.data_dir, self.warnings)
        self._highest = max(numbers, default=0)  # highest segment number seen, damaged ones included
        newest = numbers[-1] if numbers else None
        for number in numbers:
            # A closed segment's summary saves parsing it (start time); `on_open` wants
            # the records themselves.
            if number != newest and on_open is None and self._from_summary(number):
                continue
            try:
                records = read_segment(self.folder, number)
            except tinystore.DamagedFile as exc:
                self._damaged(number, exc, writer)
                continue
            self._counts[number] = len(records)
            for record in records:
                self._remember(number, record)
            if on_open is not None:
                on_open(records)
            if number == newest:
                self._open_number, self._open_records = number, records
            elif writer:
                self._summarise(number, records)

    def _from_summary(self, number: int) -> bool:
        found = segmentsummary.read(self.data_dir, segment_path(self.folder, number))
        if found is None:
            return False
        ids, receipts = found["ids"], found["receipts"]
        self._index.update(zip(ids, zip([number] * len(ids), receipts, found["content"], found["phone"],
                                        found["removed"], found["legacy"], strict=True), strict=True))
        self._receipts.update(zip(receipts, ids, strict=True))
        self._counts[number] = len(ids)
        return True

    def _summarise(self, number: int, records: list[dict[str, Any]]) -> None:
        """Write a closed segment's summary; it is a cache, so failing to write one
        costs the next start some time and nothing else."""
        try:
            segmentsummary.write(self.data_dir, segment_path(self.folder, number), records)
        except OSError as exc:
            self.warnings.append(f"could not write the summary of segment {number}: {exc.strerror or exc}")

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------

    def _damaged(self, number: int, exc: tinystore.DamagedFile, writer: bool) -> None:
        path = segment_path(self.folder, number)
        name = path.relative_to(self.data_dir)
        if writer:
            kept = quarantine.set_aside(self.data_dir, path)
            self.damaged.append(kept)
            self.problems.append(
                f"{name} is damaged ({exc.reason}) and was moved to {kept.relative_to(self.data_dir)}; "
                "the other segments are served, and `minqing check --repair` recovers what it can"
            )
        else:
            self.damaged.append(path)
            self.problems.append(f"{name} is damaged ({exc.reason}); its records are left out")

    def _segment_records(self, number: int) -> list[dict[str, Any]]:
        if number == self._open_number:
            return [dict(r) for r in self._open_records]
        try:
            return read_segment(self.folder, number)
        except (tinystore.DamagedFile, FileNotFoundError) as exc:
            # Damaged after open, or in place under a summary that still matched (a disk
            # fault keeps size and time): named in /api/health and by `minqing check`.
            name = segment_path(self.folder, number).relative_to(self.data_dir)
            reason = exc.reason if isinstance(exc, tinystore.DamagedFile) else "missing"
            problem = f"{name} could not be read ({reason}); its records are left out until `minqing check --repair`"
            if problem not in self.problems:
                self.problems.append(problem)
            return []

    def _remember(self, number: int, record: dict[str, Any]) -> None:
        prints = Fingerprints.stored(record)
        self._index[record["id"]] = (number, record["receipt"], prints.content, prints.phone, prints.phone_removed,
                                     prints.legacy)
        self._receipts[record["receipt"]] = record["id"]

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, submission_id: str) -> bool:
        return submission_id in self._index

    def fingerprint(self, submission_id: str) -> str | None:
        entry = self._index.get(submission_id)
        return entry[2] if entry else None

    def fingerprints(self, submission_id: str) -> Fingerprints | None:
        """What the duplicate check compares (see `fingerprint`); None for an unknown id."""
        entry = self._index.get(submission_id)
        return Fingerprints(*entry[2:]) if entry else None

    def receipt(self, submission_id: str) -> str | None:
        entry = self._index.get(submission_id)
        return entry[1] if entry else None

    def receipt_owner(self, code: str) -> str | None:
        return self._receipts.get(code)

    def get(self, submission_id: str) -> dict[str, Any] | None:
        entry = self._index.get(submission_id)
        if entry is None:
            return None
        number = entry[0]
        if number == self._open_number:
            found = next((r for r in self._open_records if r["id"] == submission_id), None)
        else:
            found = self._cache.get(number).get(submission_id)
        return dict(found) if found is not None else None

    def get_many(self, submission_ids) -> dict[str, dict[str, Any]]:
        """Several stored records by id, each segment read once (an office page's rows)."""
        wanted: dict[int, set[str]] = {}
        for submission_id in submission_ids:
            entry = self._index.get(submission_id)
            if entry is not None:
                wanted.setdefault(entry[0], set()).add(submission_id)
        found: dict[str, dict[str, Any]] = {}
        for number, ids in wanted.items():
            # The open segment is in memory; closed ones come through the parsed-segment cache.
            if number == self._open_number:
                found.update({r["id"]: dict(r) for r in self._open_records if r["id"] in ids})
            else:
                segment = self._cache.get(number)
                found.update({i: dict(segment[i]) for i in ids if i in segment})
        return found

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored submission, in the order the server stored them. Each carries
        the index's own id and receipt strings (equal, the same objects): a reader that
        keeps them, as the office index does, holds no second copy of either."""
        index, owners = self._index, self._receipts
        for number in sorted(self._counts):
            for record in self._segment_records(number):
                entry = index.get(record["id"])
                if entry is not None and entry[1] == record["receipt"]:
                    owner = owners.get(entry[1])
                    record["receipt"] = entry[1]
                    if owner == record["id"]:
                        record["id"] = owner
                yield record

    def records_with_phones(self) -> Iterator[dict[str, Any]]:
        """At least every stored submission that may still hold a phone (retention): only
        the segments whose index says so are read, so phones already removed cost no read."""
        numbers = {entry[0] for entry in list(self._index.values()) if entry[3] is not None or entry[5]}
        for number in sorted(numbers):
            yield from self._segment_records(number)
        yield from self.quarantine.records_with_phones()  # a copy set aside keeps no phone longer

    # -- writing ---------------------------------------------------------------------

    def _writable(self) -> None:
        if self._lock_fd is None:
            raise InboxLocked("this inbox was opened read-only")

    def add(self, records: list[dict[str, Any]]) -> None:
        """Store new records in one atomic, durable write; all or none."""
        if not records:
            return
        self._writable()
        with self._write_lock:
            number = self._open_number
            current = self._open_records
            closing = None
            if number is None or number != self._highest or len(current) >= self.segment_size:
                # A new segment: none yet, the open one full, or the newest was quarantined.
                if number is not None and number == self._highest:
                    closing = (number, current)
                number, current = self._highest + 1, []
            records = [arrived(r) for r in records]  # the minute only, in no batch's order (see `arrival`)
            updated = place_in_minute(current, records)
            try:
                tinystore.write_docs(segment_path(self.folder, number), updated, TABLE)
            except BaseException:
                # A failure after the rename (the folder's fsync) leaves the batch on disk:
                # memory must say so too, or the next write drops it and a resend is
                # stored as new. The caller still hears the failure.
                if self._landed(number, records):
                    self._adopt(number, updated, records)
                    self._notify(records)
                raise
            self._adopt(number, updated, records)
            if closing is not None:  # after the batch is durable: the upload never waits on it failing
                self._summarise(*closing)
        self._notify(records)

    def _landed(self, number: int, records: list[dict[str, Any]]) -> bool:
        try:
            stored = {r["id"] for r in read_segment(self.folder, number)}
        except (tinystore.DamagedFile, OSError):
            return False
        return all(r["id"] in stored for r in records)

    def _adopt(self, number: int, updated: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
        self._open_number, self._open_records = number, updated
        self._highest = max(self._highest, number)
        self._counts[number] = len(updated)
        for record in records:
            self._remember(number, record)

    def _notify(self, records: list[dict[str, Any]]) -> None:
        if self.on_change is not None:
            self.on_change([dict(r) for r in records])

    def redact_phones(self, submission_ids: set[str]) -> int:
        """Remove the phone, its consent and its fingerprint from these records (retention);
        returns how many changed. Each affected segment is replaced in one atomic write."""
        self._writable()
        changed: list[dict[str, Any]] = []
        with self._write_lock:
            for number in sorted({self._index[i][0] for i in submission_ids if i in self._index}):
                records = self._segment_records(number)
                hits = [r for r in records if r["id"] in submission_ids and (r.get("phone") or r.get("phone_fingerprint"))]
                if not hits:
                    continue
                for record in hits:
                    record.update(phone_removed(record))
                tinystore.write_docs(segment_path(self.folder, number), records, TABLE)
                self._cache.forget(number)
                if number != self._open_number:
                    self._summarise(number, records)
                for record in hits:  # the duplicate check now accepts a resend with any phone
                    self._remember(number, record)
                if number == self._open_number:
                    self._open_records = records
                changed += hits
            set_aside = self.quarantine.redact_phones(submission_ids, phone_removed)  # not the index's: not told
        if changed and self.on_change is not None:
            self.on_change([dict(r) for r in changed])
        return len({r["id"] for r in changed} | set_aside)

    def forget_unreadable(self, received_before) -> int:
        """Retention: drop what damage left unreadable in quarantined segments that may
        hold a record received before `received_before` (see `quarantine`); returns how
        many files changed."""
        self._writable()
        with self._write_lock:
            return self.quarantine.forget_unreadable(received_before)

    def rewrite(self, change: Callable[[dict[str, Any]], dict[str, Any] | None], seal_unreadable=None) -> int:
        """Replace records by `change(record)` (None leaves one as it is), one segment per
        atomic write: killed at any moment, each segment is wholly old or wholly new, so
        running it again finishes the job (`keys seal-existing`). Quarantined segments too,
        and `seal_unreadable(bytes)` seals what damage left unreadable in them. Returns
        how many changed."""
        self._writable()
        count = 0
        with self._write_lock:
            for number in sorted({entry[0] for entry in self._index.values()}):
                records = self._segment_records(number)
                changed = []
                for n, record in enumerate(records):
                    try:
                        new = change(record)
                    except ValueError as exc:
                        if not getattr(exc, "leave_record", False):
                            raise
                        continue  # `change` says to leave it (an unknown station): as it is, counted there
                    if new is not None:
                        records[n] = new
                        changed.append(new)
                if not changed:
                    continue
                tinystore.write_docs(segment_path(self.folder, number), records, TABLE)
                self._cache.forget(number)  # record pages must not show the old, plain copy
                if number != self._open_number:
                    self._summarise(number, records)
                for record in changed:
                    self._remember(number, record)
                if number == self._open_number:
                    self._open_records = records
                count += len(changed)
                if self.on_change is not None:
                    self.on_change([dict(r) for r in changed])
            count += self.quarantine.rewrite(change, seal_unreadable)
        return count

    def backup(self, dest: str | Path) -> int:
        """`minqing backup`: the whole data folder (see `backup.make_backup`); records copied."""
        from sync_server.store.embedded.backup import make_backup
        return make_backup(self.data_dir, Path(dest)).records
