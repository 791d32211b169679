"""Backups you can restore: `minqing backup DEST`, `--verify`, `--prune`, `minqing restore`.

A backup is a copy of the whole data folder (inbox, triage log, accounts, the
installation key, any key files, the quarantine), without the writer lock and
temporary files. It is safe while the server writes: every file is either replaced
atomically (read whole, old or new) or an append-only log (a torn last line is ignored).

Order matters for what a crash leaves behind. The marker `.minqing-backup` is written
first, then every file (each fsynced, 0600, in 0700 folders), and the manifest
`MANIFEST.json` (counts and SHA-256 checksums) last. A folder with the marker and no
manifest, with a file that does not match its checksum, or with a file its manifest
does not list, is refused by every command with one sentence.

A complete backup is also a data folder: `minqing serve --data-dir BACKUP` checks it,
then drops the marker and the manifest and serves it as the live folder from then on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sync_server.store.embedded import tinystore
from sync_server.store.embedded.secretfiles import JOURNAL, SECRET_FILES, changing_secrets, journal_problem

__all__ = ["BackupIncomplete", "BackupReport", "make_backup", "prune", "refuse_backup", "refuse_incomplete_backup", "restore",
           "verify"]

MARKER = ".minqing-backup"
MANIFEST = "MANIFEST.json"
FORMAT = "minqing-backup"
# Never copied: the locks belong to a running process (and `.<file>.lock` beside a file
# to its writers), temporary files to an interrupted write. Segment summaries are a
# cache of the segments (see `segmentsummary`): a restored folder rebuilds them at its
# first start. The quarantine is copied: a damaged segment's records were acknowledged
# and live nowhere else, and it is sealed and trimmed like the inbox (see `quarantine`).
SKIPPED_TOP = {"writer.lock", MARKER, MANIFEST, "inbox-summaries"}


class BackupIncomplete(RuntimeError):
    """A backup that must not be used; `str()` is one sentence."""


@dataclass(frozen=True)
class BackupReport:
    files: int
    bytes: int
    records: int
    triage_entries: int
    accounts: int
    problems: tuple[str, ...] = ()  # copied as they are (a damaged journal): for the operator


def _sources(data_dir: Path) -> list[Path]:
    """Files to copy, key and office first: a triage entry then never refers to a record
    the copy lacks (records are never deleted, only added after)."""
    found = []
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        if here == data_dir:
            dirs[:] = [d for d in dirs if d not in SKIPPED_TOP]
        dirs.sort()
        for name in sorted(files):
            if (here == data_dir and name in SKIPPED_TOP) or (name.startswith(".") and name.endswith((".tmp", ".lock"))):
                continue
            found.append(here / name)
    return sorted(found, key=lambda p: (p.relative_to(data_dir).parts[0] == "inbox", str(p)))


def _counts(relative: str, payload: bytes, counts: dict[str, int]) -> None:
    # Counted from the copied bytes, so the manifest describes exactly what is in the backup.
    try:
        if relative.startswith("inbox/segment-"):
            counts["records"] += len(json.loads(payload).get("submissions", {}))
        elif relative == "office/users.json":
            counts["accounts"] += len(json.loads(payload).get("documents", {}))
        elif relative == "office/triage.log":
            ids = set()
            for line in payload[: payload.rfind(b"\n") + 1].splitlines():
                ids.update(json.loads(line).get("put", {}))
            counts["triage_entries"] += len(ids)
    except (ValueError, AttributeError):
        pass  # a damaged file is copied as it is; `minqing check` names it


def _write_private(path: Path, payload: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _empty_or_missing(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def make_backup(data_dir: Path, dest: Path, now: datetime | None = None) -> BackupReport:
    data_dir, dest = Path(data_dir), Path(dest)
    if not _empty_or_missing(dest):
        raise FileExistsError(f"{dest} is not empty: a backup goes into a new or empty folder")
    if not data_dir.is_dir():
        raise FileNotFoundError(f"there is no data folder at {data_dir}")
    if dest.resolve().is_relative_to(data_dir.resolve()):
        raise FileExistsError(f"{dest} is inside the data folder: a backup goes elsewhere (another disk, ideally)")
    tinystore.private_dir(dest)
    os.chmod(dest, 0o700)
    _write_private(dest / MARKER, b"a minqing backup: complete only once MANIFEST.json exists\n")
    tinystore.fsync_dir(dest)
    files: dict[str, dict[str, Any]] = {}
    counts = {"records": 0, "triage_entries": 0, "accounts": 0}
    made: set[Path] = set()
    # The keyring and the accounts change together: read under their one lock, so the copy
    # never holds one of them from before a change and the other from after it.
    # A damaged journal is copied as it is, with them: the evidence, and nothing lost.
    with changing_secrets(data_dir, reading=True):
        held = {data_dir / name: (data_dir / name).read_bytes() for name in (*SECRET_FILES, JOURNAL)
                if (data_dir / name).exists()}
    for source in _sources(data_dir):
        relative = source.relative_to(data_dir)
        try:
            payload = held.get(source) or source.read_bytes()  # one read: the checksum is of what was copied
        except FileNotFoundError:
            continue  # replaced or removed meanwhile (a temporary file); the next one is whole
        target = dest / relative
        if target.parent not in made:
            tinystore.private_dir(target.parent)
            made.add(target.parent)
        _write_private(target, payload)
        files[relative.as_posix()] = {"bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
        _counts(relative.as_posix(), payload, counts)
    for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
        tinystore.fsync_dir(folder)
    manifest = {
        "format": FORMAT, "version": 1,
        "created_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "counts": {**counts, "files": len(files)}, "files": files,
    }
    tinystore.atomic_write(dest / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    problems = tuple(p for p in [journal_problem(data_dir)] if p)
    return BackupReport(len(files), sum(f["bytes"] for f in files.values()), **counts, problems=problems)


def _manifest(backup: Path) -> dict[str, Any]:
    path = backup / MANIFEST
    if not path.is_file():
        if (backup / MARKER).exists():
            raise BackupIncomplete(f"{backup} is an incomplete backup (it has no manifest: the copy was interrupted); "
                                   "use another backup")
        raise BackupIncomplete(f"{backup} is not a backup (it has no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text("utf-8"))
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise BackupIncomplete(f"{backup} is an incomplete backup (its manifest is damaged); use another backup") from None
    return manifest


def verify(backup: Path) -> dict[str, Any]:
    """The manifest of a complete backup whose every file matches; else BackupIncomplete."""
    backup = Path(backup)
    manifest = _manifest(backup)
    for relative, expected in manifest["files"].items():
        path = backup / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            raise BackupIncomplete(f"{backup} is an incomplete backup (its manifest names {relative})")
        try:
            payload = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BackupIncomplete(f"{backup} is an incomplete backup ({relative} is missing); use another backup") from None
        if hashlib.sha256(payload).hexdigest() != expected.get("sha256"):
            raise BackupIncomplete(
                f"{backup} is an incomplete backup ({relative} does not match its checksum); use another backup"
            )
    # The checksums vouch only for what the manifest lists: anything else was put here
    # after the backup, and would be served or restored as if the office had made it.
    for root, _dirs, names in os.walk(backup):
        for name in sorted(names):
            relative = (Path(root) / name).relative_to(backup).as_posix()
            if relative not in manifest["files"] and relative not in (MARKER, MANIFEST):
                raise BackupIncomplete(f"{backup} is not the backup its manifest describes ({relative} is not in "
                                       "its manifest); use another backup")
    return manifest


def refuse_backup(data_dir: Path) -> None:
    """Commands that change accounts or keys: a backup is not changed by hand. Its
    checksums would stop holding, and `restore` would then refuse it."""
    data_dir = Path(data_dir)
    if (data_dir / MARKER).exists() or (data_dir / MANIFEST).exists():
        raise BackupIncomplete(f"{data_dir} is a backup, left as it was: restore it with `minqing restore` "
                               "(or serve it) and change the live folder")


def refuse_incomplete_backup(data_dir: Path, *, serving: bool) -> None:
    """Any command that opens a data folder: a backup is checked first. A server that
    will write to a complete one takes it over as its live folder."""
    data_dir = Path(data_dir)
    if not (data_dir / MARKER).exists() and not (data_dir / MANIFEST).exists():
        return
    verify(data_dir)
    if serving:
        # From here on the folder changes: its checksums would no longer hold.
        (data_dir / MARKER).unlink(missing_ok=True)
        (data_dir / MANIFEST).unlink(missing_ok=True)
        tinystore.fsync_dir(data_dir)


def restore(backup: Path, data_dir: Path) -> dict[str, Any]:
    """Copy a complete backup into a new or empty data folder, all at once (a rename)."""
    backup, data_dir = Path(backup), Path(data_dir)
    manifest = verify(backup)
    if not _empty_or_missing(data_dir):
        raise FileExistsError(f"{data_dir} is not empty: restore into a new or empty folder")
    tinystore.private_dir(data_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.", suffix=".restoring", dir=data_dir.parent))
    try:
        os.chmod(staging, 0o700)
        for relative, expected in manifest["files"].items():
            payload = (backup / relative).read_bytes()
            if hashlib.sha256(payload).hexdigest() != expected["sha256"]:
                raise BackupIncomplete(f"{backup} changed while it was restored ({relative}); try again")
            target = staging / relative
            tinystore.private_dir(target.parent)
            _write_private(target, payload)
        for root, _dirs, _files in os.walk(staging, topdown=False):
            tinystore.fsync_dir(Path(root))
        if data_dir.exists():
            data_dir.rmdir()
        os.rename(staging, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    tinystore.fsync_dir(data_dir.parent)
    return manifest


def prune(root: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Delete the backups in `root` older than `keep_days` (phones removed from the live
    data remain in older backups: this is where they end). Only folders that are backups."""
    now = now or datetime.now(timezone.utc)
    limit = now - timedelta(days=keep_days)
    removed = []
    for folder in sorted(Path(root).iterdir()):
        if not folder.is_dir() or not ((folder / MARKER).exists() or (folder / MANIFEST).exists()):
            continue
        try:
            made = datetime.fromisoformat(_manifest(folder)["created_at"])
        except (BackupIncomplete, KeyError, TypeError, ValueError):
            made = datetime.fromtimestamp((folder / MARKER).stat().st_mtime, timezone.utc) \
                if (folder / MARKER).exists() else now
        if made < limit:
            shutil.rmtree(folder)
            removed.append(folder)
    return removed
