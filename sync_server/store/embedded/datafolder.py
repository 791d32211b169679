"""The embedded store: the data folder, files only, one writer process at a time.

`DataFolder` puts the inbox segments (`inbox.py`), the triage log (`triagebook.py`),
the department copies (`copybook.py`), the accounts file (`accounts.py`) and the
letters log (`letterbook.py`) behind the
seam's `Store`; each keeps its own
promises, stated in its module. The one-writer lock is the inbox's: opened as the
writer, the folder refuses a second writer with `StoreLocked` (`InboxLocked`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.copybook import CopyBook
from sync_server.store.embedded.inbox import SEGMENT_SIZE, Inbox
from sync_server.store.embedded.letterbook import LetterBook
from sync_server.store.embedded.secretfiles import journal_problem, repair_secrets
from sync_server.store.embedded.triagebook import TriageBook

__all__ = ["DataFolder"]


class DataFolder:
    def __init__(self, data_dir: str | Path, *, writer: bool = True, segment_size: int = SEGMENT_SIZE,
                 load_triage: bool = True, on_open: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """`load_triage=False` reads the triage log at its first use (the server reads it
        beside the running server); `on_open(records)` sees each segment as it is read."""
        self.data_dir = Path(data_dir)
        self.submissions = Inbox(self.data_dir, writer=writer, segment_size=segment_size, on_open=on_open)
        # A change to the keys and accounts that a kill left half made is finished at the
        # start (after the writer lock: the secret files' lock is always taken last).
        repair_secrets(self.data_dir)
        self._writer = writer
        self._load_triage = load_triage
        self._triage: TriageBook | None = None
        self._accounts: Accounts | None = None
        self._letters: LetterBook | None = None
        self._copies: CopyBook | None = None

    # Opened at first use: a kiosk import or `keys seal-existing` touches only the inbox,
    # and must not create or migrate the office's files on the way.
    @property
    def triage(self) -> TriageBook:
        if self._triage is None:
            self._triage = TriageBook(self.data_dir, load=self._load_triage, writer=self._writer)
        return self._triage

    @property
    def department_copies(self) -> CopyBook:
        if self._copies is None:
            self._copies = CopyBook(self.data_dir, writer=self._writer)
        return self._copies

    @property
    def accounts(self) -> Accounts:
        if self._accounts is None:
            self._accounts = Accounts(self.data_dir)
        return self._accounts

    @property
    def letters(self) -> LetterBook:
        if self._letters is None:
            self._letters = LetterBook(self.data_dir, writer=self._writer)
        return self._letters

    def problems(self) -> list[str]:
        len(self.letters)  # read, so its damage is known (the letters are read at first use)
        found = [*self.submissions.problems, *self.triage.problems, *self.letters.problems]
        if self._copies is not None:
            found += self._copies.problems
        if self.accounts.problem():
            found.append(self.accounts.problem())
        if journal := journal_problem(self.data_dir):
            found.append(journal)
        return found

    def close(self) -> None:
        self._writer = False
        if self._triage is not None:
            self._triage.close()
        if self._letters is not None:
            self._letters.close()
        if self._copies is not None:
            self._copies.close()
        self.submissions.close()

    def __enter__(self) -> DataFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
