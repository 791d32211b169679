"""Temporary files a killed write left behind, anywhere in the data folder: one rule.

Every whole-file write goes through `tinystore.atomic_write`: `.<name>.<random>.tmp`
beside the file, fsync, rename. The rename is the commit: until it, the file it was to
replace still holds its old contents (a change to several secret files is committed by
its journal's rename, `secretfiles`). So a leftover is never the only copy of anything,
while it may hold words and phones in clear that no rule would ever reach (a quarantined
segment's kept form, a segment's next version). It is removed, never read:

- by the writer (the server's start and every command that opens the inbox as the
  writer: retention, `keys seal-existing`, `check --repair`, import) in the folders only
  the writer writes: inbox, inbox-summaries, quarantine, office (but the accounts), quick;
- under the secrets lock, taken without waiting, in what the secret files' changes write
  (keys/, office/users.json, the journal at the top): a change in progress holds that
  lock and owns its temporary file;
- `minqing check` names every one it finds.
"""

from __future__ import annotations

import re
from pathlib import Path

from sync_server.store.embedded.secretfiles import holding_secrets_lock

__all__ = ["describe", "find", "sweep"]

# `.` + the file's name + `.` + mkstemp's random part + `.tmp`
_TEMPORARY = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp")
FOLDERS = ("", "inbox", "inbox-summaries", "quarantine", "office", "quick", "keys")


def _is_secret(data_dir: Path, path: Path) -> bool:
    parent = path.parent
    return parent == data_dir or parent == data_dir / "keys" or (parent == data_dir / "office" and
                                                                 path.name.startswith(".users.json."))


def find(data_dir: str | Path) -> list[Path]:
    """Every leftover temporary file in the data folder's own folders, in order."""
    data_dir = Path(data_dir)
    found: list[Path] = []
    for name in FOLDERS:
        folder = data_dir / name
        if not folder.is_dir():
            continue
        candidates = folder.iterdir() if not name else folder.rglob(".*.tmp")
        found += [p for p in candidates if _TEMPORARY.fullmatch(p.name) and p.is_file()]
    return sorted(set(found))


def sweep(data_dir: str | Path) -> list[Path]:
    """With the writer lock held: remove every leftover; those of the secret files only
    if no change holds the secrets lock. Returns what was removed."""
    data_dir = Path(data_dir)
    found = find(data_dir)
    removed = [p for p in found if not _is_secret(data_dir, p)]
    secret = [p for p in found if _is_secret(data_dir, p)]
    if secret:
        with holding_secrets_lock(data_dir) as held:
            if held:
                removed += secret
                for path in secret:
                    path.unlink(missing_ok=True)
    for path in removed:
        path.unlink(missing_ok=True)
    return sorted(removed)


def describe(data_dir: Path, path: Path) -> str:
    return (f"{path.relative_to(data_dir)} is a temporary file a killed write left (it may hold words and phones in "
            f"clear): the server's next start or `minqing check --repair` removes it")
