"""When a file changed: the one test every "reload when the file changed" cache uses."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FileStamp", "file_stamp"]

# Inode, size and modification time in nanoseconds. The inode catches a file replaced by a
# rename (every atomic write here), the size a rewrite within the clock's granularity that
# mtime alone misses; a cache keyed on mtime alone could keep a just-disabled account.
FileStamp = tuple[int, int, int]


def file_stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The file's stamp, or None when there is no file."""
    try:
        stat = os.stat(Path(path))
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
