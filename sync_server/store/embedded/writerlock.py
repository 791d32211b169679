"""One writer per data folder: the writer holds an exclusive `flock` on
`DATA_DIR/writer.lock` for its lifetime (TinyDB is not safe with two writers, and the
duplicate and receipt indexes live in the writer's memory). The kernel drops the lock
when the process dies, however it dies, so a crash never leaves the folder locked.
Readers take no lock: every file they read was replaced atomically, so each is whole.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sync_server.store.interfaces import StoreLocked

__all__ = ["LOCK_NAME", "InboxLocked", "take_writer_lock"]

LOCK_NAME = "writer.lock"


class InboxLocked(StoreLocked):
    """Another process is already writing to this data folder."""


def take_writer_lock(data_dir: Path) -> int:
    """The lock's file descriptor (close it to let go), or `InboxLocked`."""
    fd = os.open(Path(data_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InboxLocked(
            f"another minqing process is already writing to {data_dir} "
            "(a running server, or a second worker): stop it first, or use its API"
        ) from None
    return fd
