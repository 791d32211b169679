"""Office accounts, whatever keeps them: who may log in, with which role, over which
sectors, and how their passwords are hashed and checked.

Passwords are stored as scrypt hashes (stdlib `hashlib.scrypt`, a fresh salt each) with
their parameters, at the key lock's cost (`SCRYPT`): a stolen accounts file or table is
no cheaper a way to guess a password than the lock on the account's keys. A hash made at
a lower cost (before the parameters were stored: N=2^14) still logs in, and that log-in
rewrites it at the current cost. A store keeps the records (see `interfaces.Accounts`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, replace

__all__ = ["ROLES", "SCRYPT", "Account", "AccountError", "check_new_account", "check_new_name", "check_new_password", "check_password",
           "dummy_hash", "hash_parameters", "hash_password", "in_registry", "outdated", "registry_department"]

# staff: everything; department: the matters dispatched to its department; viewer: reports only.
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
    # A department account whose stored department names none of the registry's: it
    # sees nothing until staff set its department (`minqing office set-department`).
    department_unmapped: bool = False

    def sees_sector(self, sector: str) -> bool:
        """The sectors whose keys the account may hold. Never which records it sees: a
        department sees the matters dispatched to it (`dispatch.visibility`)."""
        return self.role == "staff" or (self.role == "department" and sector in self.sectors)


def registry_department(account: Account, registry) -> str | None:
    """The registry id of a department account's department, or None when it names
    none. An older account kept the department's name, or none and only its sectors:
    it is mapped by that name, else its display name, else the one department that
    leads all its sectors."""
    value = (account.department or "").strip()
    if value:
        found = registry.department(value) or registry.department_named(value)
        return found.id if found else None
    found = registry.department_named((account.display or "").strip())
    if found is not None:
        return found.id
    leads = {registry.lead_of(sector) for sector in account.sectors}
    if len(leads) == 1 and None not in leads:
        return leads.pop().id
    return None


def in_registry(account: Account, registry) -> Account:
    """The account as the office reads it: a department account's `department` is a
    registry id, or empty and flagged `department_unmapped` (it then sees nothing)."""
    if account.role != "department":
        return account
    department = registry_department(account, registry)
    if department == account.department:
        return account
    return replace(account, department=department or "", department_unmapped=department is None)


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


def outdated(stored: str) -> bool:
    """True when a stored hash was made at another cost than today's (rehash it at log-in)."""
    return hash_parameters(stored) != SCRYPT


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
def dummy_hash() -> str:
    return hash_password("not-a-password-anyone-has")


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")


# Names the history writes for someone who is no office account: an account of that name
# would look, in every history, like the citizen.
RESERVED_NAMES = frozenset({"citizen"})


def check_new_name(name: str) -> None:
    if not _NAME.match(name):
        raise AccountError(f"'{name}' is not a valid user name (2-32 of a-z 0-9 . _ -)")
    if name in RESERVED_NAMES:
        raise AccountError(f"'{name}' is reserved: the history uses it for citizens' own steps")


def check_new_account(name: str, role: str, sectors, password: str, department: str = "") -> None:
    """Refuse, with a sentence, an account no store may keep (a store says first when
    the name is taken, after `check_new_name`)."""
    check_new_name(name)
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if role == "department" and not sectors and not department:
        raise AccountError("a department user needs --department (a department id of the registry)")
    check_new_password(password)
