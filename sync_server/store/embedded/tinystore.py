"""The only module that knows the file formats: TinyDB documents and the append log.

Every whole-file write here goes through `atomic_write`: a temporary file (created 0600),
fsync, rename, fsync of the folder. TinyDB's own JSONStorage writes in place, so a crash
mid-write can leave a broken file; here a file is always the old or the new one, never
empty, never half.

Three shapes serve the rest of the server:
- `read_docs(path)` / `write_docs(path, docs)`: a list of documents in a TinyDB file,
  replaced whole in one write (the inbox segments); `salvage_docs` reads the longest
  valid prefix of a damaged one;
- `KeyedFile`: documents by a string key in a TinyDB file, each `put` one write (users);
- `AppendLog`: one JSON object per line, each append one fsynced write, compacted by an
  atomic rewrite (the triage log);
- `read_json(path)` / `write_json(path, obj)`: one plain JSON value in a file, replaced
  whole (the inbox's segment summaries).

A file that does not parse raises `DamagedFile`, which names it; callers decide whether
to quarantine it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from sync_server.filestamp import FileStamp, file_stamp

__all__ = [
    "AppendLog", "AtomicJSONStorage", "DamagedFile", "KeyedFile", "atomic_write", "count", "fsync_dir",
    "private_dir", "quarantine", "read_docs", "read_json", "salvage_docs", "write_docs", "write_json",
]

TABLE = "documents"
FILE_MODE = 0o600
DIR_MODE = 0o700


class DamagedFile(ValueError):
    """A stored file that does not parse; `str()` is one sentence naming it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is damaged ({reason})")
        self.path, self.reason = Path(path), reason


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700, whatever the umask; returns it."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return missing[0] if missing else path


def fsync_dir(path: Path) -> None:
    folder = os.open(path, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def atomic_write(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` in one durable step; the file is 0600."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def quarantine(path: Path, data_dir: Path, *, move: bool) -> Path:
    """Put a damaged file under DATA_DIR/quarantine/ (same relative path, a content tag
    so the same damage is kept once); moved when the caller owns the file, else copied."""
    path, data_dir = Path(path), Path(data_dir)
    relative = path.relative_to(data_dir)
    tag = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    target = data_dir / "quarantine" / relative.parent / f"{relative.name}.{tag}"
    private_dir(target.parent)
    if target.exists():
        if move:
            path.unlink()
    elif move:
        os.replace(path, target)
    else:
        shutil.copyfile(path, target)
        os.chmod(target, FILE_MODE)
    fsync_dir(target.parent)
    if move:
        fsync_dir(path.parent)
    return target


# -- TinyDB document files ----------------------------------------------------------------


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces its file atomically and durably on every write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = _loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DamagedFile(self.path, f"not valid JSON: {exc.__class__.__name__}") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise DamagedFile(self.path, "not a TinyDB file")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, _dump(data))

    def close(self) -> None:
        pass


def _loads(raw: bytes) -> Any:
    """Parse stored JSON. orjson reads a segment about twice as fast as `json`, which
    matters at start with a hundred thousand records; it is stricter (no integer beyond
    64 bits, no lone surrogate escape, no NaN), so what it refuses is read again by
    `json`, and only what both refuse is damaged: a faster reader never quarantines a
    file the old one accepted."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _documents(path: Path, table: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        ordered = sorted(table.items(), key=lambda item: int(item[0]))
    except ValueError:
        raise DamagedFile(path, "a document id is not a number") from None
    if not all(isinstance(doc, dict) for _, doc in ordered):
        raise DamagedFile(path, "a document is not an object")
    return [doc for _, doc in ordered]


def read_docs(path: Path, table: str = TABLE) -> list[dict[str, Any]]:
    """The documents of a TinyDB file in insertion order; [] when it does not exist."""
    data = AtomicJSONStorage(path).read()
    if data is None:
        return []
    return _documents(path, data.get(table, {}))


def count(path: Path, table: str = TABLE) -> int:
    return len(read_docs(path, table))


def write_docs(path: Path, docs: list[dict[str, Any]], table: str = TABLE) -> None:
    """Replace the file's documents in one atomic, durable write; all or none.

    The caller holds the current documents (the inbox keeps its open segment in memory),
    so nothing is read back: the cost is one write of this file.
    """
    AtomicJSONStorage(path).write({table: {str(n): doc for n, doc in enumerate(docs, start=1)}})


def salvage_docs(path: Path, table: str = TABLE) -> list[dict[str, Any]]:
    """The longest valid prefix of documents of a damaged (for instance truncated) file."""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    head = re.match(r'\s*\{\s*"' + re.escape(table) + r'"\s*:\s*\{\s*', text)
    if head is None:
        return []
    docs, position = [], head.end()
    key = re.compile(r'\s*"\d+"\s*:\s*')
    while True:
        found = key.match(text, position)
        if found is None:
            break
        try:
            doc, position = decoder.raw_decode(text, found.end())
        except ValueError:
            break
        if not isinstance(doc, dict):
            break
        docs.append(doc)
        separator = re.compile(r"\s*,").match(text, position)
        if separator is None:
            break
        position = separator.end()
    return docs


class KeyedFile:
    """Documents by key in one TinyDB file, read once and kept in memory.

    Writers hold a lock from the fresh read to the write (the accounts, the one user, take
    the secret files' lock and save `payload`); reads notice a replaced file and reread it.
    A file that does not parse is copied to quarantine and read as empty; `problem` says so.
    """

    def __init__(self, path: Path, data_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.data_dir = Path(data_dir) if data_dir else self.path.parent.parent
        self._stamp: FileStamp | None = None
        self._docs: dict[str, dict[str, Any]] = {}
        self.problem: str | None = None
        self.refresh()

    def refresh(self) -> None:
        stamp = file_stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return
        try:
            data = AtomicJSONStorage(self.path).read() or {}
            docs = _documents(self.path, data.get(TABLE, {}))
            if not all(isinstance(doc.get("_key"), str) for doc in docs):
                raise DamagedFile(self.path, "a document has no key")
        except DamagedFile as exc:
            kept = quarantine(self.path, self.data_dir, move=False)
            # Named relative to the data folder: this sentence is also in /api/health.
            name = self.path.relative_to(self.data_dir)
            self.problem = f"{name} is damaged ({exc.reason}); a copy is in {kept.relative_to(self.data_dir)}, read as empty"
            docs = []
        else:
            self.problem = None
        self._docs = {doc["_key"]: {k: v for k, v in doc.items() if k != "_key"} for doc in docs}
        self._stamp = stamp

    @staticmethod
    def payload(docs: dict[str, dict[str, Any]]) -> bytes:
        """The file's bytes for these documents, for a writer that saves them its own way."""
        return _dump({TABLE: {str(n): {**value, "_key": key} for n, (key, value) in enumerate(docs.items(), start=1)}})

    @staticmethod
    def parse(raw: bytes) -> dict[str, dict[str, Any]]:
        """The documents of `payload`'s bytes."""
        docs = _documents(Path("(staged)"), _loads(raw).get(TABLE, {}))
        return {doc["_key"]: {k: v for k, v in doc.items() if k != "_key"} for doc in docs}

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
        with self._writing():
            self._write({key: dict(value) for key, value in values.items()})

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        # A lock file beside this one, held from the fresh read to the write (made by the writer).
        private_dir(self.path.parent)
        fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.refresh()
            yield
        finally:
            os.close(fd)

    def _write(self, changed: dict[str, dict[str, Any]]) -> None:
        docs = {**self._docs, **changed}
        write_docs(self.path, [{**value, "_key": key} for key, value in docs.items()], TABLE)
        self._docs = docs
        self._stamp = file_stamp(self.path)


# -- plain JSON values ---------------------------------------------------------------------


def read_json(path: Path) -> Any:
    """The JSON value in `path`; None when there is no file; DamagedFile if it does not parse."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    try:
        return _loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DamagedFile(Path(path), f"not valid JSON: {exc.__class__.__name__}") from None


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, orjson.dumps(value))


# -- append log -----------------------------------------------------------------------------


class AppendLog:
    """One JSON object per line. An append is one write and one fsync of a whole line, so
    after a crash the file holds every acknowledged line and at most a torn last line,
    which reading ignores and the next append cuts off."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tail_checked = False

    def stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_size

    def read(self, offset: int = 0) -> tuple[list[Any], int, int]:
        """(objects from `offset`, offset after the last whole line, unreadable lines).

        A last line without its newline is a torn append: not counted, not returned.
        """
        try:
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                raw = handle.read()
        except FileNotFoundError:
            return [], 0, 0
        end = raw.rfind(b"\n") + 1
        objects, bad = [], 0
        for line in raw[:end].splitlines():
            if not line.strip():
                continue
            try:
                objects.append(_loads(line))
            except (UnicodeDecodeError, ValueError):
                bad += 1
        return objects, offset + end, bad

    def append(self, obj: Any) -> None:
        line = _dump(obj) + b"\n"
        if b"\n" in line[:-1]:
            raise ValueError("a log line cannot hold a newline")
        if not self._tail_checked:
            self._cut_torn_tail()
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a full disk: do not leave half a line behind
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise OSError(28, "short write to the triage log")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)

    def _cut_torn_tail(self) -> None:
        try:
            with open(self.path, "r+b") as handle:
                raw = handle.read()
                if raw and not raw.endswith(b"\n"):
                    handle.truncate(raw.rfind(b"\n") + 1)
                    handle.flush()
                    os.fsync(handle.fileno())
        except FileNotFoundError:
            pass
        self._tail_checked = True

    def rewrite(self, objects: list[Any]) -> None:
        """Replace the whole log atomically (compaction)."""
        atomic_write(self.path, b"".join(_dump(obj) + b"\n" for obj in objects))
        self._tail_checked = True
