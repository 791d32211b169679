"""Office accounts in the data folder: `DATA_DIR/office/users.json` (see
`sync_server.store.accounts` for roles and password hashing).

The command line writes them (`minqing office add-user | set-password | disable-user`);
the server writes only upgraded hashes, and only over the very hash it checked, so a
password changed meanwhile stays changed. Each record carries a session generation:
`set-password` and `disable-user` raise it, and the server ends every session started
under an older one.
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
from sync_server.store.embedded.tinystore import KeyedFile

__all__ = ["Accounts"]


class Accounts:
    def __init__(self, data_dir: Path) -> None:
        self.file = KeyedFile(Path(data_dir) / "office" / "users.json")

    def add(self, name: str, password: str, role: str, display: str = "", sectors=(), department: str = "") -> None:
        check_new_name(name)
        if self.file.get(name):
            raise AccountError(f"the user '{name}' already exists")
        check_new_account(name, role, sectors, password)
        record = {
            "role": role, "display": display or name, "sectors": list(sectors), "department": department,
            "password": hash_password(password), "disabled": False,
        }

        def create(current):
            if current is not None:
                raise AccountError(f"the user '{name}' already exists")
            return record

        self.file.update(name, create)

    def _end_sessions(self, name: str, **changes) -> None:
        def change(record):
            if record is None:
                raise AccountError(f"there is no user '{name}'")
            return {**record, **changes, "generation": record.get("generation", 0) + 1}

        self.file.update(name, change)

    def set_password(self, name: str, password: str) -> None:
        check_new_password(password)
        self._end_sessions(name, password=hash_password(password), disabled=False)

    def disable(self, name: str) -> None:
        self._end_sessions(name, disabled=True)

    def names(self) -> list[str]:
        return sorted(self.file.items())

    def problem(self) -> str | None:
        return self.file.problem

    def get(self, name: str) -> Account | None:
        record = self.file.get(name)
        if record is None:
            return None
        return Account(name, record["role"], record["display"], tuple(record["sectors"]), record.get("department", ""),
                       record["disabled"], record.get("generation", 0))

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account, if the password is its own and it is not disabled (about a second:
        the server calls it off its event loop)."""
        record = self.file.get(name)
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
            self.file.update(name, lambda record: {**record, "password": new}
                             if record is not None and record["password"] == checked else record)
        except OSError:
            pass  # a read-only data folder: the old hash keeps working, upgraded another time
