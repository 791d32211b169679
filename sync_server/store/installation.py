"""The installation key: a per-installation secret that keys every value derived from a
reporter's data (form submission ids, duplicate fingerprints, look-up keys).

What it protects: someone with the source code and some stored values but not this
file (a kiosk export, an office spreadsheet, a log, a copy of `inbox/` alone) cannot
recompute such a value from guessed inputs (every mobile number, every address), so
the values tell them nothing. Two installations share no derived value either.

What it does not protect: the key lives in the data folder (`DATA_DIR/installation.key`,
32 random bytes, mode 0600, created at first start) and is copied into every backup,
because without it stored fingerprints cannot be checked. So whoever holds the whole
data folder or a backup holds the key too, and can confirm a guessed phone against a
live record's `phone_fingerprint` (about 7 x 10^9 mainland numbers is minutes of
HMAC). That adds nothing for them while the phone itself sits beside it in clear; what
matters is that retention drops phone, consent and `phone_fingerprint` together, so a
record past retention holds nothing left to confirm a guess against. Older backups still
hold the phones themselves: prune them (`minqing backup --prune`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from pathlib import Path

__all__ = ["KEY_NAME", "installation_key", "keyed_digest", "secret_file"]

KEY_NAME = "installation.key"
KEY_BYTES = 32


def installation_key(data_dir: str | Path) -> bytes:
    """The data folder's key, created on first use (O_EXCL, so two starts agree on one)."""
    return secret_file(Path(data_dir) / KEY_NAME)


def secret_file(path: Path) -> bytes:
    """32 random bytes kept at `path` (mode 0600), created on first use. The bytes are
    written and flushed to a temporary file first, then linked into place (which fails
    if the file exists, so two starts agree on one): a crash or a full disk leaves the
    whole key or none, never a short one. A file too short to be one is refused."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        _create(path)
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"{path} is damaged (shorter than {KEY_BYTES} bytes): restore it from a backup")
    return key


def _create(path: Path) -> None:
    # A dot name ending in .tmp: backups skip it, and a leftover holds no key in use.
    temporary = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(os.urandom(KEY_BYTES))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another start made it first: theirs stands
            os.link(temporary, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        temporary.unlink(missing_ok=True)


def keyed_digest(key: bytes, *parts: str) -> str:
    """HMAC-SHA-256 over the parts, unambiguously joined; hex."""
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(key, message, hashlib.sha256).hexdigest()
