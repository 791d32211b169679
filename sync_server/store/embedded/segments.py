"""The inbox's segment files: their names, and reading one back whole or not at all.

`DATA_DIR/inbox/segment-NNNNNN.json`, each a TinyDB file of submissions (see
`tinystore`). A file in `inbox/` with any other name is not ours: it is ignored, with a
warning; a temporary file left by a write a crash interrupted is skipped here and
removed by the writer with every other such leftover (`leftovers`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sync_server.store.embedded import tinystore

__all__ = ["SEGMENT_NAME", "TABLE", "SegmentCache", "read_segment", "scan", "segment_path", "valid_record"]

TABLE = "submissions"
SEGMENT_NAME = re.compile(r"segment-(\d{6})\.json")
FOLDER = "inbox"


def valid_record(record: Any) -> bool:
    return (type(record) is dict and type(record.get("id")) is str and type(record.get("fingerprint")) is str
            and type(record.get("receipt")) is str)


def segment_path(folder: Path, number: int) -> Path:
    return folder / f"segment-{number:06d}.json"


def read_segment(folder: Path, number: int) -> list[dict[str, Any]]:
    path = segment_path(folder, number)
    records = tinystore.read_docs(path, TABLE)
    if not all(valid_record(r) for r in records):
        raise tinystore.DamagedFile(path, "a record lacks its id, fingerprint or receipt")
    return records


def scan(data_dir: Path, warnings: list[str]) -> list[int]:
    """The segments' numbers, in order; stray files are named in `warnings`."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return []
    numbers = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue  # a killed write's leftover: `leftovers.sweep` removes it
        found = SEGMENT_NAME.fullmatch(path.name)
        if found and path.is_file():
            numbers.append(int(found.group(1)))
        else:
            warnings.append(f"ignored {path.relative_to(data_dir)}: not an inbox segment")
    return sorted(numbers)


# Parsed segments kept for record pages and look-ups (about 2 MB each): a record page
# reads its segment once, the next records of the same segment come from memory.
CACHED_SEGMENTS = 8


class SegmentCache:
    """Closed segments' records by id, parsed once and kept among the last few."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._parsed: OrderedDict[int, dict[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, number: int) -> dict[str, dict[str, Any]]:
        with self._lock:
            found = self._parsed.get(number)
            if found is not None:
                self._parsed.move_to_end(number)
                return found
        try:
            found = {r["id"]: r for r in read_segment(self.folder, number)}
        except (tinystore.DamagedFile, FileNotFoundError):
            return {}  # damaged after open: named by `minqing check`, the rest still served
        with self._lock:
            self._parsed[number] = found
            while len(self._parsed) > CACHED_SEGMENTS:
                self._parsed.popitem(last=False)
        return found

    def forget(self, number: int) -> None:
        """After a rewrite: record pages must not show the old copy."""
        with self._lock:
            self._parsed.pop(number, None)
