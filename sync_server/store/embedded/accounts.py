"""Office accounts: who may log in, with which role, over which sectors.

Passwords are stored as scrypt hashes (stdlib `hashlib.scrypt`, a fresh salt each) with
their parameters, at the key lock's cost (`SCRYPT`): a stolen `users.json` is no
cheaper a way to guess a password than the lock on the account's keys. A hash made at a
lower cost (before the parameters were stored: N=2^14) still logs in, and that log-in
rewrites it at the current cost.

Accounts live in `DATA_DIR/office/users.json`. The command line writes them
(`minqing office add-user | set-password | disable-user`); the server writes only those
upgraded hashes, and only over the very hash it checked, so a password changed
meanwhile stays changed. Each record carries a session generation: `set-password` and
`disable-user` raise it, and the server ends every session started under an older one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sync_server.store.embedded.tinystore import KeyedFile

__all__ = ["ROLES", "Account", "AccountError", "Accounts", "check_password", "hash_parameters", "hash_password"]

# staff: everything; department: the records of its sectors; viewer: reports only.
ROLES = {"staff": "区扫黑办工作人员", "department": "牵头/责任部门", "viewer": "只看报表"}
_NAME = re.compile(r"\A[a-z0-9][a-z0-9._-]{1,31}\Z")
MIN_PASSWORD = 10
# Hashes written before the parameters were stored ("scrypt$salt$digest") used these.
_LEGACY = {"n": 2**14, "r": 8, "p": 1}
# What a stored hash may ask for: users.json is the operator's, but a typo must not make
# each log-in take gigabytes.
_MAX = {"n": 2**20, "r": 16, "p": 4}

# scrypt for passwords and for the password-derived locks on sector keys (the keyring
# locks its keys at this cost): 128 MiB and about half a second here. The lock is what a
# thief of the disk or a backup attacks offline. Stored with each hash and lock, so it
# can be raised later.
SCRYPT = {"n": 2**17, "r": 8, "p": 1}


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


def _scrypt(password: str, salt: bytes, params: dict[str, int]) -> bytes:
    n, r, p = params["n"], params["r"], params["p"]
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * r * n + 2**20)


def hash_password(password: str, params: dict[str, int] | None = None) -> str:
    params = params or SCRYPT
    salt = os.urandom(16)
    digest = _scrypt(password, salt, params)
    return (f"scrypt${params['n']}${params['r']}${params['p']}$"
            + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode())


def _parse(stored: str) -> tuple[dict[str, int], bytes, bytes] | None:
    parts = stored.split("$") if isinstance(stored, str) else []
    try:
        if len(parts) == 3 and parts[0] == "scrypt":
            params = dict(_LEGACY)
        elif len(parts) == 6 and parts[0] == "scrypt":
            params = {"n": int(parts[1]), "r": int(parts[2]), "p": int(parts[3])}
        else:
            return None
        salt, digest = base64.b64decode(parts[-2], validate=True), base64.b64decode(parts[-1], validate=True)
    except ValueError:
        return None
    n = params["n"]
    if not (1 < n <= _MAX["n"] and n & (n - 1) == 0 and 1 <= params["r"] <= _MAX["r"] and 1 <= params["p"] <= _MAX["p"]):
        return None
    return params, salt, digest


def hash_parameters(stored: str) -> dict[str, int] | None:
    """The scrypt parameters a stored hash was made with, or None for no valid hash."""
    parsed = _parse(stored)
    return parsed[0] if parsed else None


def check_password(password: str, stored: str) -> bool:
    parsed = _parse(stored)
    if parsed is None:
        return False
    params, salt, expected = parsed
    try:
        actual = _scrypt(password, salt, params)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked when the name is unknown, so a wrong name costs the same time as a wrong
# password. Made on first use: importing this module must not cost a second.
@functools.cache
def _dummy() -> str:
    return hash_password("not-a-password-anyone-has")


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
        record = {
            "role": role, "display": display or name, "sectors": list(sectors), "department": department,
            "password": hash_password(password), "disabled": False,
        }

        def create(current):
            if current is not None:
                raise AccountError(f"the user '{name}' already exists")
            return record

        self.file.update(name, create)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")

    def _end_sessions(self, name: str, **changes) -> None:
        def change(record):
            if record is None:
                raise AccountError(f"there is no user '{name}'")
            return {**record, **changes, "generation": record.get("generation", 0) + 1}

        self.file.update(name, change)

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
        """The account, if the password is its own and it is not disabled (about a second:
        the server calls it off its event loop)."""
        record = self.file.get(name)
        if record is None:
            check_password(password, _dummy())
            return None
        if not check_password(password, record["password"]) or record["disabled"]:
            return None
        if hash_parameters(record["password"]) != SCRYPT:
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
