"""What the inbox keeps of each closed segment, so a start reads a few small files
instead of parsing every segment: per record its id, receipt and fingerprints.

A summary lives at `DATA_DIR/inbox-summaries/segment-NNNNNN.json`, written atomically
when its segment closes (and again when retention or `keys seal-existing` rewrites it).
It names the segment's stamp (inode, size, modification time) when it was made, and is
trusted only while the segment still has that stamp: a segment rewritten since (an
older summary), a summary cut short or damaged, or none at all, and the inbox parses
the segment itself and writes a fresh summary. A summary is a cache of the segment,
never a second copy of a record: deleting the folder costs one slower start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync_server.filestamp import file_stamp
from sync_server.store.embedded import tinystore
from sync_server.store.fingerprint import Fingerprints

__all__ = ["COLUMNS", "FOLDER", "read", "write"]

FOLDER = "inbox-summaries"
FORMAT = "minqing.segment-summary"
VERSION = 1

# The columns, each a list with one value per record in the segment's order; together
# a record's values are the inbox's index entry (see `inbox._Entry`) without the number.
COLUMNS = ("ids", "receipts", "content", "phone", "removed", "legacy")
_TYPES = {"ids": {str}, "receipts": {str}, "content": {str}, "phone": {str, type(None)},
          "removed": {bool}, "legacy": {bool}}


def _path(data_dir: Path, segment: Path) -> Path:
    return Path(data_dir) / FOLDER / segment.name


def write(data_dir: Path, segment: Path, records: list[dict[str, Any]]) -> None:
    """Summarise `records`, which must be exactly what `segment` holds now (the caller
    holds the inbox's write lock, so nothing changes it meanwhile)."""
    stamp = file_stamp(segment)
    if stamp is None:
        return
    prints = [Fingerprints.stored(record) for record in records]
    columns = {
        "ids": [r["id"] for r in records], "receipts": [r["receipt"] for r in records],
        "content": [p.content for p in prints], "phone": [p.phone for p in prints],
        "removed": [p.phone_removed for p in prints], "legacy": [p.legacy for p in prints],
    }
    folder = Path(data_dir) / FOLDER
    tinystore.private_dir(folder)
    tinystore.write_json(folder / segment.name, {
        "format": FORMAT, "version": VERSION, "segment": segment.name, "stamp": list(stamp),
        "count": len(records), **columns,
    })


def read(data_dir: Path, segment: Path) -> dict[str, list] | None:
    """The summary's columns for `segment` as it is now, or None (missing, damaged, or
    made from another version of the segment): then read the segment itself. Checked
    a column at a time at C speed (a start reads a hundred of these)."""
    try:
        found = tinystore.read_json(_path(data_dir, segment))
    except (tinystore.DamagedFile, OSError):
        return None
    stamp = file_stamp(segment)
    if (type(found) is not dict or found.get("format") != FORMAT or found.get("version") != VERSION
            or found.get("segment") != segment.name or stamp is None or found.get("stamp") != list(stamp)):
        return None
    count = found.get("count")
    for name in COLUMNS:
        column = found.get(name)
        if type(column) is not list or len(column) != count or (column and not set(map(type, column)) <= _TYPES[name]):
            return None
    return {name: found[name] for name in COLUMNS}
