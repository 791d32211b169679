"""The one way in to stored data: open a store, or the accounts alone, and the data
folder's own operations (backup, restore, check).

Everything outside this package imports from here or from the engine-neutral modules
beside it (`interfaces`, `accounts`, `fingerprint`, `installation`, `retention`), never
from an engine's package: tests/sync_server/test_layout.py checks it. The promises are
in `interfaces.py`; the embedded engine, files in the data folder, is the default.

Key material (the keyring, the quick-open copies, the installation key) stays in the
data folder with `sealing/` whatever the engine: a database shared with other systems
never holds a private key. The keyring and the accounts change together, under one lock
and one journal (`changing_secrets`, `repair_secrets`).
"""

from __future__ import annotations

from pathlib import Path

from sync_server.store.embedded.accounts import Accounts as _AccountsFile
from sync_server.store.embedded.backup import BackupIncomplete, make_backup, prune, refuse_backup, restore, verify
from sync_server.store.embedded.check import check
from sync_server.store.embedded.datafolder import DataFolder
from sync_server.store.embedded.inbox import SEGMENT_SIZE
from sync_server.store.embedded.secretfiles import JournalDamaged, SecretsChange, changing_secrets, repair_secrets
from sync_server.store.embedded.tinystore import atomic_write
from sync_server.store.interfaces import Accounts, DepartmentCopies, Letters, Store, StoreLocked, Submissions, TriageLog

__all__ = [
    "Accounts", "BackupIncomplete", "DepartmentCopies", "JournalDamaged", "Letters", "SEGMENT_SIZE", "Store", "StoreLocked",
    "Submissions", "TriageLog", "atomic_write",
    "SecretsChange", "changing_secrets", "check", "make_backup", "open_accounts", "open_store", "prune", "refuse_backup",
    "repair_secrets", "restore", "verify",
]


def open_store(data_dir: str | Path, *, writer: bool = True, segment_size: int = SEGMENT_SIZE,
               load_triage: bool = True, on_open=None) -> Store:
    """The store in `data_dir`. As the writer (the default) it takes the one-writer lock
    (`StoreLocked` if another process holds it) until `close`; `writer=False` reads beside
    a running writer. `load_triage=False` reads the triage log at its first use."""
    return DataFolder(data_dir, writer=writer, segment_size=segment_size, load_triage=load_triage, on_open=on_open)


def open_accounts(data_dir: str | Path, change: SecretsChange | None = None) -> Accounts:
    """The accounts alone, without the writer lock: account commands run beside a
    serving server, which sees their changes at its next look (see `interfaces.Accounts`).
    With `change`, its changes are part of that change to the secret files (made together
    with the keyring's, see `changing_secrets`)."""
    return _AccountsFile(Path(data_dir), change)
