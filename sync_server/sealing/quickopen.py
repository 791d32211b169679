"""The office's quick-open copies on disk: `DATA_DIR/quick/<kid>.v3.log`.

A sealed record's first open is one HPKE open (a P-256 exchange); once a session has
opened records, their words are kept again as one AES-256-GCM message per record under
a key derived from the sector key (`envelope.quick_seal`), so the next log-in after a
restart opens 100,000 records in a second or two instead of half a minute. Nothing
here is readable without the sector key, which is never on disk unlocked.

One file per sector key, one record per line, appended and fsynced. One record a line
(its length tells only what its envelope's padded length tells) and each write's
records in random order, so neither a line nor the order of the lines ties the records
of one upload together; the office writes a minute's records together once the minute
is over (see `office.sealed_search`). Older layouts are deleted at the next read and
their records opened again from their envelopes: `<kid>.log` (v1) held unpadded
batches, whose length told a one-record batch's exact length; `<kid>.v2.log` held one
line per upload, whose length told the batch size without any key. A crash can leave
the last line cut short: it fails to open and is skipped (its record is opened again
from its envelope), and the next append starts on a fresh line. A copy is a cache:
losing the folder costs only time. Folder 0700, files 0600.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from sync_server.sealing import envelope

__all__ = ["QuickCopies"]

FOLDER = "quick"
_KID = re.compile(r"^[0-9a-f]{16}$")
_shuffle = secrets.SystemRandom().shuffle


class QuickCopies:
    def __init__(self, data_dir: str | Path) -> None:
        self.dir = Path(data_dir) / FOLDER

    def path(self, kid: str) -> Path:
        if not _KID.match(kid):  # the name of a file: never a path from elsewhere
            raise ValueError(f"not a key id: {kid!r}")
        return self.dir / f"{kid}.v3.log"

    def remove_old_layouts(self) -> None:
        """Delete every v1 and v2 file (see above), at the server's start: a key no
        session reads again would keep its grouped lines, and every backup with them."""
        for path in [*self.dir.glob("*.log")]:
            if not path.name.endswith(".v3.log"):
                try:
                    path.unlink()
                except OSError:  # a cache: gone already, or the next read tries again
                    pass

    def read(self, kid: str, key: bytes) -> tuple[dict[str, tuple[str, str]], int]:
        """The words kept under this key, by record id, and how many lines did not open."""
        words: dict[str, tuple[str, str]] = {}
        bad = 0
        for legacy in (f"{kid}.log", f"{kid}.v2.log"):
            try:
                (self.dir / legacy).unlink()
            except FileNotFoundError:
                pass
        try:
            text = self.path(kid).read_text("ascii", errors="replace")
        except FileNotFoundError:
            return words, 0
        for line in text.split("\n"):
            if not line:
                continue
            try:
                entries = envelope.quick_open(key, kid, line)
            except (envelope.SealError, ValueError):
                bad += 1
                continue
            for submission_id, feeling, suggestion in entries:
                words[submission_id] = (feeling, suggestion)
        return words, bad

    def append(self, kid: str, key: bytes, entries: list[tuple[str, str, str]]) -> None:
        if not entries:
            return
        path = self.path(kid)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        entries = list(entries)
        _shuffle(entries)  # the order they were opened in is the order they arrived in
        line = b"".join(envelope.quick_seal(key, kid, [entry]).encode("ascii") + b"\n" for entry in entries)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            # A line cut short by a crash must not swallow this one.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
