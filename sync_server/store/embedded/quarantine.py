"""Quarantined inbox segments: damaged files set aside, under the same rules as the inbox.

A segment that does not parse is moved to `DATA_DIR/quarantine/inbox/segment-NNNNNN.json.<tag>`
as it is: the damaged bytes are the evidence a repair needs (`minqing check --repair`
puts back what can be read; an operator may mend the rest by hand, or match the
file's size and checksum against a backup). But its records are citizens' words and
phones like any other, so the rules reach it too:

- `keys seal-existing` seals its readable records, and the bytes no record could be
  read from are sealed to the recovery key (the only holder that may read every sector:
  nobody can tell whose words they hold);
- retention removes the phones of its readable records when they are due, and drops the
  unreadable bytes once `phone_days_max` has passed since the earliest arrival they may
  hold (those records were never in the office's list, so nobody closed them: the
  longest limit is theirs). The damage hides their own times, so the earliest of what is
  known stands in, erring towards dropping sooner (`earliest_received_at`): every
  arrival time still legible anywhere in the file, the latest arrival in the segment
  before it (this one opened after it), and the file's last write;
- backups copy the quarantine (its records are acknowledged ones, nowhere else).

A file changed by a rule is rewritten once, atomically, into a *kept* file: a TinyDB
file of its readable records (so `check --repair` reads them like a segment) with a
`quarantined` part naming the original (its name, size, SHA-256, when it was last
written, the earliest arrival its bytes may hold), where its unreadable bytes were (offsets and lengths), and those bytes: in
clear (base64) before there are keys, sealed, or dropped at the retention limit. Until
a rule needs it, the damaged file stays byte for byte as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sync_server.store.embedded import segmentsummary, tinystore
from sync_server.store.embedded.segments import TABLE, valid_record

__all__ = ["FORMAT", "Quarantine", "Quarantined", "read", "set_aside"]

FORMAT = "minqing.quarantined-segment"
FOLDER = ("quarantine", "inbox")
_RECORD_KEY = re.compile(r'"\d+"\s*:\s*(?=\{)')
_BAD_BYTES = re.compile("[\udc80-\udcff]")  # invalid UTF-8, kept by surrogateescape
# An arrival time still legible, in a readable record or among the unreadable bytes.
_RECEIVED = re.compile(rb'"received_at"\s*:\s*"(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)?)"')
# What lies between records when nothing is damaged: no word of anyone's.
_STRUCTURE = re.compile(r'[\s,{}]*(\{\s*"' + TABLE + r'"\s*:\s*\{)?[\s,{}]*')


@dataclass
class Quarantined:
    path: Path
    records: list[dict[str, Any]]
    damage: dict[str, Any]
    unreadable: bytes | None  # in clear, only while the file is raw or kept plain
    kept: bool


def set_aside(data_dir: Path, segment: Path) -> Path:
    """Move a damaged segment to the quarantine; its summary (ids, receipts, phone
    digests) goes first, so no phone digest outlives the records it describes (killed
    between the two, the next start finds the segment damaged again and moves it)."""
    (Path(data_dir) / segmentsummary.FOLDER / segment.name).unlink(missing_ok=True)
    return tinystore.quarantine(segment, data_dir, move=True)


def paths(data_dir: Path) -> list[Path]:
    folder = Path(data_dir).joinpath(*FOLDER)
    return sorted(p for p in folder.glob("segment-*.json.*") if p.is_file()) if folder.is_dir() else []


def salvage(raw: bytes) -> tuple[list[dict[str, Any]], list[tuple[int, bytes]]]:
    """Every record that can still be read, wherever it sits (not only before the first
    damage), and the unreadable pieces left: (byte offset, bytes), structure left out."""
    text = raw.decode("utf-8", errors="surrogateescape")
    decoder = json.JSONDecoder()
    records, spans, position = [], [], 0
    while found := _RECORD_KEY.search(text, position):
        try:
            doc, end = decoder.raw_decode(text, found.end())
        except ValueError:
            position = found.end()
            continue
        if valid_record(doc) and not _BAD_BYTES.search(text, found.start(), end):
            records.append(doc)
            spans.append((found.start(), end))
            position = end
        else:
            position = found.end()
    gaps, offset, previous = [], 0, 0
    for start, end in [*spans, (len(text), len(text))]:
        piece = text[previous:start]
        if not _STRUCTURE.fullmatch(piece):
            gaps.append((offset, piece.encode("utf-8", errors="surrogateescape")))
        offset += len(piece.encode("utf-8", errors="surrogateescape"))
        offset += len(text[start:end].encode("utf-8", errors="surrogateescape"))
        previous = end
    return records, gaps


def _when(text: str | bytes | None) -> datetime | None:
    try:
        found = datetime.fromisoformat(text.decode("ascii") if isinstance(text, bytes) else str(text))
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def _latest_before(path: Path) -> datetime | None:
    """The latest arrival legible in the segment before this one (in the inbox or set
    aside): this segment was opened after it, so nothing in it arrived earlier."""
    data_dir, number = path.parents[2], path.name.split(".", 1)[0].removeprefix("segment-")
    if not number.isdigit() or int(number) < 2:
        return None
    name = f"segment-{int(number) - 1:06d}.json"
    times = []
    for before in [data_dir / "inbox" / name, *path.parent.glob(name + ".*")]:
        try:
            times += [t for t in map(_when, _RECEIVED.findall(before.read_bytes())) if t]
        except OSError:
            continue
    return max(times, default=None)


def _earliest(path: Path, raw: bytes, written: datetime) -> datetime:
    """The earliest arrival the file's unreadable bytes may hold, as far as can be known."""
    known = [t for t in map(_when, _RECEIVED.findall(raw)) if t]
    return min([*known, written] + [t for t in [_latest_before(path)] if t])


def earliest_received(found: Quarantined) -> datetime:
    """For retention; a file kept by an older version: its readable records or last write."""
    noted = _when(found.damage.get("earliest_received_at"))
    if noted is not None:
        return noted
    times = [t for t in (_when(r.get("received_at")) for r in found.records) if t]
    return min([*times, _when(found.damage["written_at"]) or datetime.now(timezone.utc)])


def read(path: Path) -> Quarantined:
    raw = path.read_bytes()
    try:
        data = tinystore.read_json(path)
    except tinystore.DamagedFile:
        data = None
    if isinstance(data, dict) and isinstance(data.get("quarantined"), dict) and data["quarantined"].get("format") == FORMAT:
        damage = data["quarantined"]
        plain = (damage.get("unreadable") or {}).get("plain")
        return Quarantined(path, tinystore.read_docs(path, TABLE), damage, base64.b64decode(plain) if plain else None, True)
    records, gaps = salvage(raw)
    written = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(microsecond=0)
    earliest = _earliest(path, raw, written).isoformat(timespec="seconds")
    damage = {"format": FORMAT, "version": 1, "segment": path.name.rsplit(".", 1)[0], "bytes": len(raw),
              "sha256": hashlib.sha256(raw).hexdigest(), "written_at": written.isoformat(timespec="seconds"),
              "earliest_received_at": earliest,
              "ranges": [[offset, len(piece)] for offset, piece in gaps], "unreadable": None}
    return Quarantined(path, records, damage, b"".join(piece for _, piece in gaps) or None, False)


def _save(found: Quarantined, unreadable: dict[str, Any] | None) -> None:
    """Replace the file with its kept form in one atomic, durable write."""
    document = {TABLE: {str(n): r for n, r in enumerate(found.records, start=1)},
                "quarantined": {**found.damage, "unreadable": unreadable}}
    try:
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate salvaged from an old record
        payload = json.dumps(document, separators=(",", ":")).encode("ascii")
    tinystore.atomic_write(found.path, payload)


def _current(found: Quarantined) -> dict[str, Any]:
    """The unreadable part as a kept file holds it: `plain` (base64), `sealed` (pieces,
    each sealed to the recovery key), `dropped_at` (gone at the retention limit)."""
    if found.kept:
        return dict(found.damage.get("unreadable") or {})
    return {"plain": base64.b64encode(found.unreadable).decode("ascii")} if found.unreadable else {}


class Quarantine:
    """The quarantined segments of one data folder, for the inbox's rules."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def _each(self) -> Iterator[Quarantined]:
        for path in paths(self.data_dir):
            try:
                yield read(path)
            except OSError:
                continue  # unreadable even as bytes: nothing a rule can do; `minqing check` names it

    def records_with_phones(self) -> Iterator[dict[str, Any]]:
        for found in self._each():
            yield from (dict(r) for r in found.records if r.get("phone") or r.get("phone_fingerprint"))

    def redact_phones(self, submission_ids: set[str], redact: Callable[[dict[str, Any]], dict[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for found in self._each():
            hits = [n for n, r in enumerate(found.records)
                    if r["id"] in submission_ids and (r.get("phone") or r.get("phone_fingerprint"))]
            for n in hits:
                found.records[n] = redact(found.records[n])
            if hits:
                _save(found, _current(found))
                changed.update(found.records[n]["id"] for n in hits)
        return changed

    def rewrite(self, change: Callable[[dict[str, Any]], dict[str, Any] | None],
                seal_unreadable: Callable[[bytes], dict[str, Any]] | None = None) -> int:
        """`change` on every readable record; with `seal_unreadable`, the bytes still in
        clear are sealed by it. A record `change` cannot take (a field lost to the damage)
        joins the unreadable bytes and is sealed with them rather than left in clear."""
        count = 0
        for found in self._each():
            kept, pending, changed, whole = [], b"", 0, []
            for record in found.records:
                try:
                    new = change(record)
                except (KeyError, TypeError, ValueError, AttributeError):
                    if seal_unreadable is None:
                        raise
                    pending, changed = pending + json.dumps(record).encode("utf-8"), changed + 1
                    whole.append(record.get("id"))
                    continue
                kept.append(record if new is None else new)
                changed += new is not None
            found.records, unreadable = kept, _current(found)
            if whole:  # their ids stay readable: the office's `check` still says they exist, and where
                found.damage["sealed_records"] = [*found.damage.get("sealed_records", []), *whole]
            if seal_unreadable is not None and ("plain" in unreadable or pending):
                clear = base64.b64decode(unreadable.pop("plain", "")) + pending
                unreadable["sealed"] = [*unreadable.get("sealed", []), seal_unreadable(clear)]
                changed += 1
            if changed:
                _save(found, unreadable)
                count += changed
        return count

    def forget_unreadable(self, received_before: datetime) -> int:
        """Drop the unreadable bytes of every file that may hold a record received
        before `received_before` (see `earliest_received`)."""
        dropped = 0
        for found in self._each():
            unreadable = _current(found)
            if earliest_received(found) < received_before and ("plain" in unreadable or "sealed" in unreadable):
                _save(found, {"dropped_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                dropped += 1
        return dropped
