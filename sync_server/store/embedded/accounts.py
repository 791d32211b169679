"""Office accounts in the data folder: `DATA_DIR/office/users.json` (see
`sync_server.store.accounts` for roles and password hashing).

The command line writes them (`minqing office add-user | set-password | disable-user`);
the server writes only upgraded hashes, and only over the very hash it checked, so a
password changed meanwhile stays changed. Each record carries a session generation:
`set-password` and `disable-user` raise it, and the server ends every session started
under an older one.

The file is one of the secret files (`secretfiles.py`): every change holds their one lock
from the fresh read to the save, and a change made with the keyring's (`change`) is saved
together with it, whole or not at all. Reading first finishes a change a kill left half made.
"""

from __future__ import annotations

from pathlib import Path

from sync_server.store.accounts import (
    Account,
    AccountError,
    check_new_account,
    check_new_name,
    check_new_password,
    check_password,
    dummy_hash,
    hash_password,
    outdated,
)
from sync_server.store.embedded.secretfiles import SecretsChange, changing_secrets, repair_secrets
from sync_server.store.embedded.tinystore import KeyedFile

__all__ = ["Accounts"]


USERS = "office/users.json"


class Accounts:
    def __init__(self, data_dir: Path, change: SecretsChange | None = None) -> None:
        self.data_dir, self.change = Path(data_dir), change
        repair_secrets(self.data_dir)
        self.file = KeyedFile(self.data_dir / USERS)

    def _records(self, change: SecretsChange | None = None) -> dict[str, dict]:
        """The records as they stand: as staged by the change (its own earlier writes),
        else the file's, after finishing a change a kill left half made."""
        staged = (change or self.change).staged(USERS) if (change or self.change) else None
        if staged is not None:
            return KeyedFile.parse(staged)
        repair_secrets(self.data_dir)
        return self.file.items()

    def _update(self, name: str, change_record) -> None:
        """Replace one record with `change_record(what is stored now)`, the read and the
        save under the secret files' lock (None leaves it)."""
        with changing_secrets(self.data_dir, self.change) as change:
            records = self._records(change)
            new = change_record(records.get(name))
            if new is not None and new != records.get(name):
                change.write(USERS, KeyedFile.payload({**records, name: new}))

    def add(self, name: str, password: str, role: str, display: str = "", sectors=(), department: str = "") -> None:
        check_new_name(name)
        if self.get(name):
            raise AccountError(f"the user '{name}' already exists")
        check_new_account(name, role, sectors, password, department)
        record = {
            "role": role, "display": display or name, "sectors": list(sectors), "department": department,
            "password": hash_password(password), "disabled": False,
        }

        def create(current):
            if current is not None:
                raise AccountError(f"the user '{name}' already exists")
            return record

        self._update(name, create)

    def _end_sessions(self, name: str, **changes) -> None:
        def change(record):
            if record is None:
                raise AccountError(f"there is no user '{name}'")
            return {**record, **changes, "generation": record.get("generation", 0) + 1}

        self._update(name, change)

    def set_password(self, name: str, password: str) -> None:
        check_new_password(password)
        self._end_sessions(name, password=hash_password(password), disabled=False)

    def disable(self, name: str) -> None:
        self._end_sessions(name, disabled=True)

    def set_department(self, name: str, department: str) -> None:
        """Move a department account to another department (an id the caller checked
        against the registry): its sessions end, so it never reads with the old one."""
        current = self.get(name)
        if current is not None and current.role != "department":
            raise AccountError(f"'{name}' is not a department user")
        self._end_sessions(name, department=department)

    def names(self) -> list[str]:
        return sorted(self._records())

    def problem(self) -> str | None:
        return self.file.problem

    def get(self, name: str) -> Account | None:
        record = self._records().get(name)
        if record is None:
            return None
        return Account(name, record["role"], record["display"], tuple(record["sectors"]), record.get("department", ""),
                       record["disabled"], record.get("generation", 0))

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account, if the password is its own and it is not disabled (about a second:
        the server calls it off its event loop)."""
        record = self._records().get(name)
        if record is None:
            check_password(password, dummy_hash())
            return None
        if not check_password(password, record["password"]) or record["disabled"]:
            return None
        if outdated(record["password"]):
            self.upgrade_hash(name, record["password"], password)
        return self.get(name)

    def upgrade_hash(self, name: str, checked: str, password: str) -> None:
        """Rehash at the current cost, only over the hash `password` was checked against."""
        new = hash_password(password)
        try:
            self._update(name, lambda record: {**record, "password": new}
                         if record is not None and record["password"] == checked else record)
        except OSError:
            pass  # a read-only data folder: the old hash keeps working, upgraded another time
