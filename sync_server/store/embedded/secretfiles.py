"""One writer for the secret files, and changes to them that are whole or not at all.

The secret files are the keyring (`keys/keyring.json`, with `keys/public.json` derived
from it) and the accounts (`office/users.json`). A change loads them, works for a second
or two (scrypt), and saves: two commands doing that at once would each save what they
loaded, and a sector key made meanwhile (that the server already seals uploads to) would
be lost for good. So every change, by the server or a command, holds one exclusive
`flock` on `DATA_DIR/.secrets.lock` around its whole load, change and save
(`changing_secrets`). The kernel drops the lock when its process dies, however it dies.

A change that rewrites several files (a new password: the account's hash and the lock on
its keys) is made as the careful keepers of secrets make theirs, with a write-ahead
journal: every new content goes first into `DATA_DIR/secrets.journal` (written whole,
fsynced, renamed into place: that rename is the commit), then each file is replaced, then
the journal is deleted. A kill before the commit leaves every file as it was; a kill
after it is rolled forward by whoever looks next (the next change, the server's start,
any command that reads the keys or accounts: `repair_secrets`). Forward, never back: the
server may already be sealing uploads to a key the change made, so undoing it could lose
that key, while replaying the journal only writes again what it holds whole.

Lock order: this lock is taken last. Nothing holding it takes the inbox writer lock, so
the server (which holds that lock while it runs) and the commands never wait on each
other in a circle. Readers take no lock: each file is replaced atomically, so each read
is whole; a reader may see one file before a change and the other after it for the
moment the change is committing (a log-in then has no keys in its session until the
next log-in), never a state that stays.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sync_server.store.embedded.tinystore import DamagedFile, atomic_write, fsync_dir, private_dir

__all__ = ["JOURNAL", "LOCK_NAME", "SECRET_FILES", "JournalDamaged", "SecretsChange", "changing_secrets",
           "holding_secrets_lock", "journal_problem", "repair_secrets"]

SECRET_FILES = ("keys/keyring.json", "keys/public.json", "office/users.json")

# A dot and `.lock`: a backup skips it, as it skips every lock.
LOCK_NAME = ".secrets.lock"
JOURNAL = "secrets.journal"
_FORMAT = "minqing-secrets-journal"


class JournalDamaged(DamagedFile):
    """The journal of a change does not read: one sentence, with what to do.

    It was written whole and renamed, so only the disk damaged it, and which files the
    change had reached is unknown: no guess is made about keys. Moving it aside loses no
    key anything was sealed to (the server seals to a key only once `keyring.json` holds
    it); at worst one account's password and the lock on its keys stay out of step."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "a change to the keys and accounts was cut short and its journal does not read")
        self.args = (f"{path.name} is damaged (a change to the keys and accounts was cut short and its journal does "
                     f"not read), so nothing may change the keys or accounts: make a backup now (`minqing backup` "
                     f"keeps the journal as it is), then move {path.name} out of the data folder; the keys and "
                     f"accounts stay as the change left them, and an account whose new password does not open "
                     f"its keys is given them again (`minqing keys grant`)",)

    def __str__(self) -> str:
        return self.args[0]


# The data folders this thread holds the lock of: taking it again without the change
# in hand would wait for itself for ever.
_held = threading.local()


class SecretsChange:
    """The new contents of one change, by path relative to the data folder, written
    together when the change ends (see the module's docstring)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._staged: dict[str, bytes] = {}

    def read(self, relative: str) -> bytes | None:
        """What the file holds for this change: its staged content, or the file's (read
        under the lock, so nobody else changes it meanwhile); None when there is none."""
        if relative in self._staged:
            return self._staged[relative]
        try:
            return (self.data_dir / relative).read_bytes()
        except FileNotFoundError:
            return None

    def staged(self, relative: str) -> bytes | None:
        """What this change has written to the file so far, or None."""
        return self._staged.get(relative)

    def write(self, relative: str, payload: bytes) -> None:
        self._staged[relative] = payload

    def _commit(self) -> None:
        changed = {rel: data for rel, data in self._staged.items() if data != _current(self.data_dir / rel)}
        if not changed:
            return
        journal = self.data_dir / JOURNAL
        if len(changed) > 1:
            atomic_write(journal, _journal(changed))
        _apply(self.data_dir, changed)
        if len(changed) > 1:
            journal.unlink()
            fsync_dir(self.data_dir)


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _journal(files: dict[str, bytes]) -> bytes:
    encoded = {rel: base64.b64encode(data).decode("ascii") for rel, data in sorted(files.items())}
    digest = hashlib.sha256(json.dumps(encoded, sort_keys=True).encode()).hexdigest()
    return json.dumps({"format": _FORMAT, "v": 1, "files": encoded, "sha256": digest}).encode()


def _apply(data_dir: Path, files: dict[str, bytes]) -> None:
    for relative, payload in files.items():
        path = data_dir / relative
        private_dir(path.parent)
        os.chmod(path.parent, 0o700)  # keys/ and office/ are the owner's alone, whatever made them
        atomic_write(path, payload)


def _roll_forward(data_dir: Path) -> bool:
    """With the lock held: finish the change a kill left in the journal. True if there was one."""
    journal = data_dir / JOURNAL
    try:
        raw = journal.read_bytes()
    except FileNotFoundError:
        return False
    _apply(data_dir, _parse(raw, journal))
    journal.unlink()
    fsync_dir(data_dir)
    return True


def _parse(raw: bytes, journal: Path) -> dict[str, bytes]:
    """The files a journal holds; `JournalDamaged` when it does not read."""
    try:
        record = json.loads(raw)
        encoded = record["files"]
        if record.get("format") != _FORMAT or not isinstance(encoded, dict) or \
                hashlib.sha256(json.dumps(encoded, sort_keys=True).encode()).hexdigest() != record.get("sha256"):
            raise ValueError
        files = {rel: base64.b64decode(text, validate=True) for rel, text in encoded.items()}
        if any(Path(rel).is_absolute() or ".." in Path(rel).parts for rel in files):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise JournalDamaged(journal) from None
    return files


def _held_here() -> set[str]:
    if not hasattr(_held, "dirs"):
        _held.dirs = set()
    return _held.dirs


def journal_problem(data_dir: str | Path) -> str | None:
    """The sentence for a damaged journal, or None (none, or one that reads)."""
    journal = Path(data_dir) / JOURNAL
    try:
        _parse(journal.read_bytes(), journal)
    except OSError:
        return None  # none (the usual case), or unreadable as bytes: the next change says so
    except JournalDamaged as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def changing_secrets(data_dir: str | Path, change: SecretsChange | None = None, *,
                     reading: bool = False) -> Iterator[SecretsChange]:
    """One change to the secret files: the lock, a change half made by a kill finished
    first, and what was staged written when the block ends without an exception (an
    exception writes nothing). Given the `change` of an enclosing block, it is that one.
    `reading`: only to read the files whole (a backup), so a damaged journal is left as
    it is rather than refused."""
    if change is not None:
        yield change
        return
    data_dir = Path(data_dir)
    key = str(data_dir.resolve())
    if key in _held_here():
        raise RuntimeError("a change to the keys and accounts inside another: pass it the enclosing change")
    private_dir(data_dir)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held_here().add(key)
        try:
            _roll_forward(data_dir)
        except JournalDamaged:
            if not reading:
                raise
        change = SecretsChange(data_dir)
        yield change
        change._commit()
    finally:
        _held_here().discard(key)
        os.close(fd)


@contextlib.contextmanager
def holding_secrets_lock(data_dir: Path) -> Iterator[bool]:
    """The secrets lock if nobody holds it (True), without waiting; False when a change
    holds it or the folder is read-only."""
    if str(Path(data_dir).resolve()) in _held_here():
        yield False
        return
    try:
        fd = os.open(Path(data_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def repair_secrets(data_dir: str | Path) -> bool:
    """Finish a change a kill left half made, if any (one `stat` when there is none).
    Never waits: a change in progress holds the lock and finishes it itself. True if
    this call rolled one forward."""
    data_dir = Path(data_dir)
    if not (data_dir / JOURNAL).exists() or str(data_dir.resolve()) in _held_here():
        return False
    try:
        fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False  # a read-only folder: it is read as it is
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            return _roll_forward(data_dir)
        except (OSError, DamagedFile):
            # Read-only or full: the files read as they are, the journal stays for later. A
            # damaged journal: readers read the files as they are; a change refuses (above).
            return False
    finally:
        os.close(fd)
