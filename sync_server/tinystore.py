"""The only module that knows TinyDB: durable files of documents.

Every file here is a TinyDB database written through `AtomicJSONStorage`: a temporary
file, fsync, rename, fsync of the folder. TinyDB's own JSONStorage writes in place, so a
crash mid-write can leave a broken file; here a file is always the old or the new one.

Two shapes serve the rest of the server:
- `append(path, docs)` / `read(path)`: a list of documents, grown in one write
  (the inbox segments);
- `KeyedFile`: documents by a string key, each `put` one write (users, triage).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

__all__ = ["AtomicJSONStorage", "KeyedFile", "append", "atomic_write", "read", "replace_all"]

TABLE = "documents"


def atomic_write(path: Path, payload: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces its file atomically and durably on every write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def close(self) -> None:
        pass


def _open(path: Path) -> TinyDB:
    return TinyDB(path, storage=AtomicJSONStorage)


def read(path: Path, table: str = TABLE) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with _open(path) as db:
        return [dict(doc) for doc in db.table(table).all()]


def count(path: Path, table: str = TABLE) -> int:
    with _open(path) as db:
        return len(db.table(table))


def append(path: Path, docs: list[dict[str, Any]], table: str = TABLE) -> None:
    """Add documents in one atomic, durable write; all or none."""
    with _open(path) as db:
        db.table(table).insert_multiple(docs)


def replace_all(path: Path, docs: list[dict[str, Any]], table: str = TABLE) -> None:
    """Rewrite a file's documents in one atomic write (retention redactions)."""
    with _open(path) as db:
        db.drop_table(table)
        db.table(table).insert_multiple(docs)


def _stamp(path: Path) -> tuple[int, int, int]:
    # mtime alone can miss a change: two writes within the clock's granularity, or a
    # replacement by rename with an older mtime. A new inode or size catches those.
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


class KeyedFile:
    """Documents by key in one TinyDB file, read once and kept in memory.

    Only one process writes a given file (the server, or a command-line tool while the
    server is stopped); `refresh()` rereads it when another process replaced it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._stamp: tuple[int, int, int] | None = None
        # TinyDB ids are integers and our keys strings: the key is kept in the document.
        self._docs: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, int] = {}
        self.refresh()

    def refresh(self) -> None:
        try:
            stamp = _stamp(self.path)
        except FileNotFoundError:
            return
        if stamp != self._stamp:
            with _open(self.path) as db:
                docs = db.table(TABLE).all()
            self._ids = {doc["_key"]: doc.doc_id for doc in docs}
            self._docs = {doc["_key"]: {k: v for k, v in doc.items() if k != "_key"} for doc in docs}
            self._stamp = stamp

    def get(self, key: str) -> dict[str, Any] | None:
        self.refresh()
        return self._docs.get(key)

    def items(self) -> dict[str, dict[str, Any]]:
        self.refresh()
        return dict(self._docs)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.put_many({key: value})

    def put_many(self, values: dict[str, dict[str, Any]]) -> None:
        """Insert or replace several documents in one atomic write: all or none."""
        self.refresh()
        ids = dict(self._ids)
        docs = []
        for key, value in values.items():
            ids[key] = ids.get(key) or max(ids.values(), default=0) + 1
            docs.append(Document({**value, "_key": key}, doc_id=ids[key]))
        # One storage write for the whole set, in TinyDB's own file format.
        storage = AtomicJSONStorage(self.path)
        data = storage.read() or {}
        data.setdefault(TABLE, {}).update({str(doc.doc_id): dict(doc) for doc in docs})
        storage.write(data)
        self._ids = ids
        self._docs.update({key: dict(value) for key, value in values.items()})
        self._stamp = _stamp(self.path)
