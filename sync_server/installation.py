"""The installation key: a per-installation secret that keys every value derived from a
reporter's data (form submission ids, duplicate fingerprints, look-up keys).

Without it, anyone holding the source and a data folder or a backup could recompute such
a value from guessed inputs (every IPv4 address, every mobile number) and so recover
the input. With it, the data folder alone does not suffice: the key lives in
`DATA_DIR/installation.key` (32 random bytes, mode 0600), created at first start and
copied into every backup, because without it stored fingerprints cannot be checked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

__all__ = ["KEY_NAME", "installation_key", "keyed_digest"]

KEY_NAME = "installation.key"
KEY_BYTES = 32


def installation_key(data_dir: str | Path) -> bytes:
    """The data folder's key, created on first use (O_EXCL, so two starts agree on one)."""
    path = Path(data_dir) / KEY_NAME
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < KEY_BYTES:
            raise RuntimeError(f"{path} is damaged (shorter than {KEY_BYTES} bytes): restore it from a backup") from None
        return key
    key = os.urandom(KEY_BYTES)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def keyed_digest(key: bytes, *parts: str) -> str:
    """HMAC-SHA-256 over the parts, unambiguously joined; hex."""
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(key, message, hashlib.sha256).hexdigest()
