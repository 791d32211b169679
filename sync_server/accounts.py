"""Office accounts: who may log in, with which role, over which sectors.

Passwords are stored as scrypt hashes (stdlib `hashlib.scrypt`, a fresh salt each).
Accounts live in `DATA_DIR/office/users.json`; only the command line writes them
(`minqing office add-user | set-password | disable-user`), the server only reads.
Each record carries a session generation: `set-password` and `disable-user` raise it,
and the server ends every session started under an older one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .tinystore import KeyedFile

__all__ = ["ROLES", "Account", "AccountError", "Accounts"]

# staff: everything; department: the records of its sectors; viewer: reports only.
ROLES = {"staff": "区扫黑办工作人员", "department": "牵头/责任部门", "viewer": "只看报表"}
_NAME = re.compile(r"\A[a-z0-9][a-z0-9._-]{1,31}\Z")
MIN_PASSWORD = 10
# scrypt cost: about 50 ms here, slow enough against guessing, quick enough to log in.
_N, _R, _P = 2**14, 8, 1


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    display: str
    sectors: tuple[str, ...]
    department: str
    disabled: bool
    generation: int = 0

    def sees_sector(self, sector: str) -> bool:
        return self.role == "staff" or (self.role == "department" and sector in self.sectors)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=_N, r=_R, p=_P, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY = hash_password("not-a-password-anyone-has")


class Accounts:
    def __init__(self, data_dir: Path) -> None:
        self.file = KeyedFile(Path(data_dir) / "office" / "users.json")

    def add(self, name: str, password: str, role: str, display: str = "", sectors=(), department: str = "") -> None:
        if not _NAME.match(name):
            raise AccountError(f"'{name}' is not a valid user name (2-32 of a-z 0-9 . _ -)")
        if self.file.get(name):
            raise AccountError(f"the user '{name}' already exists")
        if role not in ROLES:
            raise AccountError(f"the role must be one of {', '.join(ROLES)}")
        if role == "department" and not sectors:
            raise AccountError("a department user needs --sectors")
        self._check_password(password)
        self.file.put(name, {
            "role": role, "display": display or name, "sectors": list(sectors), "department": department,
            "password": hash_password(password), "disabled": False,
        })

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")

    def _update(self, name: str, **changes) -> None:
        record = self.file.get(name)
        if record is None:
            raise AccountError(f"there is no user '{name}'")
        self.file.put(name, {**record, **changes})

    def _end_sessions(self, name: str, **changes) -> None:
        record = self.file.get(name)
        generation = record.get("generation", 0) + 1 if record else 0
        self._update(name, generation=generation, **changes)

    def set_password(self, name: str, password: str) -> None:
        self._check_password(password)
        self._end_sessions(name, password=hash_password(password), disabled=False)

    def disable(self, name: str) -> None:
        self._end_sessions(name, disabled=True)

    def get(self, name: str) -> Account | None:
        record = self.file.get(name)
        if record is None:
            return None
        return Account(name, record["role"], record["display"], tuple(record["sectors"]), record.get("department", ""),
                       record["disabled"], record.get("generation", 0))

    def authenticate(self, name: str, password: str) -> Account | None:
        record = self.file.get(name)
        if record is None:
            check_password(password, _DUMMY)
            return None
        if not check_password(password, record["password"]) or record["disabled"]:
            return None
        return self.get(name)
