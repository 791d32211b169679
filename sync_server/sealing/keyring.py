"""Sector and department keys and who holds them: the keyring in `DATA_DIR/keys/`.

One P-256 key pair per sector seals the citizens' words (see `envelope.py`); one per
department seals the copies of the words of matters dispatched to it
(`dispatch_copies.py`). A rotation adds new pairs and keeps the old ones, so old
records and copies still open. Nobody holds one of these private keys in clear on disk.
Instead, as GlobaLeaks does for its recipients, every holder (an office account, or the
recovery key) has its own key pair, locked under its password or the recovery key, and
each key it may read is sealed to it (`holder_locks.py` does the bytes).

So a rotation, a new sector or a new department needs nobody's password (it seals to
public keys), while giving a new holder the existing keys needs someone who holds them
unlocked: a staff account or the recovery key. Who may read what follows the office
roles: staff and the recovery key every sector and department; a department account its
own department's key and no sector key (it reads only what was dispatched to it, through
those copies); a viewer none. A grant's scope is the sector id, or `dept:<id>`.

Files: `keyring.json` (everything above, the one source) and `public.json` (the current
public key of each sector, for the build; department keys are never published: no form
may seal to one), 0600 in a 0700 folder. Only the command line writes them, and only as
one change to the secret files (`store.changing_secrets`): under one lock from the fresh
read to the save, so no command saves an older copy over a key another made, and through
one journal, so both files (and the accounts', when a password changes) are saved
together or not at all. `init` makes its keys in memory and saves them only once the
recovery key has reached the operator (`prepare`, then `activate`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from sync_server.sealing import envelope
from sync_server.sealing.holder_locks import (
    KeysError,
    b64,
    format_recovery,
    grant_message,
    lock_new,
    open_grant,
    open_lock,
    parse_recovery,
    relock,
    unb64,
)
from sync_server.store import SecretsChange, changing_secrets, repair_secrets
from sync_server.store.accounts import SCRYPT

__all__ = ["DEPARTMENT", "RECOVERY", "SCRYPT", "Keyring", "KeysError", "PendingKeys", "Unlocked", "access_of",
           "format_recovery", "parse_recovery"]

KEYS_DIR = "keys"
KEYRING = f"{KEYS_DIR}/keyring.json"
PUBLIC = f"{KEYS_DIR}/public.json"
RECOVERY = "@recovery"
DEPARTMENT = "dept:"  # a department key's scope: `dept:<id>`; a sector id never has a colon
_ALL = "*"


@dataclass
class Unlocked:
    """A holder's private keys, in memory only: sector keys (`keys`, kid -> (sector,
    key)) and department keys (`departments`, kid -> (department id, key)), kept apart so
    a record's envelope never opens with a department key nor a copy with a sector key.
    For a command that gives keys, its own private key and the secret that unlocked it too
    (`own`, `secret`), so the change can open the grants again from the keyring as it
    stands under the lock: a rotation may have added keys since, sealed to a key pair that
    a grant or a password set meanwhile gave the holder. An office session keeps neither."""

    holder: str
    keys: dict[str, tuple[str, ec.EllipticCurvePrivateKey]] = field(default_factory=dict)
    own: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    secret: bytes | None = field(default=None, repr=False)
    departments: dict[str, tuple[str, ec.EllipticCurvePrivateKey]] = field(default_factory=dict)

    def private(self, kid: str) -> tuple[str, ec.EllipticCurvePrivateKey] | None:
        return self.keys.get(kid)

    def department_private(self, kid: str) -> tuple[str, ec.EllipticCurvePrivateKey] | None:
        return self.departments.get(kid)

    def sectors(self) -> set[str]:
        return {sector for sector, _ in self.keys.values()}

    def department_ids(self) -> set[str]:
        return {department for department, _ in self.departments.values()}

    def forget(self) -> None:
        # Python cannot wipe memory; dropping the references is what it can do.
        self.keys.clear()
        self.departments.clear()
        self.own = self.secret = None


@dataclass(frozen=True)
class PendingKeys:
    """Keys made by `Keyring.prepare`, not yet in effect: `code` is the recovery key."""

    code: str
    data: dict[str, Any] = field(repr=False)


def access_of(role: str, sectors: Iterable[str], department: str = "") -> str | list[str] | None:
    """What an office role reads: staff all; a department account its department's key
    (one not yet mapped to a department id: its sectors, as before); a viewer none."""
    if role == "staff":
        return _ALL
    if role == "department":
        return [DEPARTMENT + department] if department else sorted(sectors)
    return None


def _scopes(data: dict[str, Any]) -> dict[str, str]:
    """Every key id ever made, with its scope: a sector id, or `dept:<id>`."""
    kids = {e["kid"]: s for s, entries in data["sectors"].items() for e in entries}
    kids.update({e["kid"]: DEPARTMENT + d for d, entries in data.get("departments", {}).items() for e in entries})
    return kids


class Keyring:
    """The keyring of a data folder. With `change`, it reads and writes as part of that
    change to the secret files (the accounts' side of one command goes in the same one)."""

    def __init__(self, data_dir: str | Path, scrypt: dict[str, int] | None = None,
                 change: SecretsChange | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / KEYS_DIR
        self.path = self.data_dir / KEYRING
        self.public_path = self.data_dir / PUBLIC
        self.scrypt = scrypt or SCRYPT
        self.change = change

    def exists(self) -> bool:
        if self.change is not None:
            return self.change.read(KEYRING) is not None
        repair_secrets(self.data_dir)
        return self.path.exists()

    # --- reading -------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if self.change is not None:
            raw = self.change.read(KEYRING)
        else:
            repair_secrets(self.data_dir)  # a change a kill left half made is finished first
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                raw = None
        if raw is None:
            raise KeysError("there are no keys yet: run `minqing keys init`")
        return json.loads(raw)

    def public_keys(self) -> dict[str, envelope.PublicKey]:
        """Each sector's current public key (the newest)."""
        if not self.exists():
            return {}
        return {s: envelope.PublicKey(entries[-1]["kid"], unb64(entries[-1]["key"]))
                for s, entries in self._load()["sectors"].items()}

    def sector_of(self) -> dict[str, str]:
        """Every sector key id ever made, old ones too, with its sector."""
        if not self.exists():
            return {}
        return {e["kid"]: s for s, entries in self._load()["sectors"].items() for e in entries}

    def department_keys(self) -> dict[str, envelope.PublicKey]:
        """Each department's current public key: what a dispatched matter's copy is sealed to."""
        if not self.exists():
            return {}
        return {d: envelope.PublicKey(entries[-1]["kid"], unb64(entries[-1]["key"]))
                for d, entries in self._load().get("departments", {}).items()}

    def department_of(self) -> dict[str, str]:
        """Every department key id ever made, with its department id."""
        if not self.exists():
            return {}
        return {e["kid"]: d for d, entries in self._load().get("departments", {}).items() for e in entries}

    def holders(self) -> dict[str, str | list[str]]:
        return {name: h["access"] for name, h in self._load()["holders"].items()} if self.exists() else {}

    def unlock(self, name: str, password: str, keep_own: bool = False) -> Unlocked:
        """`keep_own`: keep the holder's own private key and this secret too, for a command
        that gives keys (`enroll`); an office session holds only the sector keys."""
        return self._unlock(name, password.encode("utf-8"), keep_own)

    def unlock_recovery(self, code: str, keep_own: bool = False) -> Unlocked:
        return self._unlock(RECOVERY, parse_recovery(code), keep_own)

    def _unlock(self, name: str, secret: bytes, keep_own: bool = False) -> Unlocked:
        data = self._load()
        holder = data["holders"].get(name)
        own = None if holder is None else open_lock(name, holder, secret)
        if own is None:
            raise KeysError("the recovery key is wrong" if name == RECOVERY else f"'{name}' holds no keys, or the password is wrong")
        return self._open_grants(data, name, own, secret if keep_own else None)

    @staticmethod
    def _open_grants(data: dict[str, Any], name: str, private: ec.EllipticCurvePrivateKey, kept: bytes | None) -> Unlocked:
        """`kept`: the unlocking secret, for a command that gives keys (with the own key then)."""
        unlocked = Unlocked(name, own=private if kept is not None else None, secret=kept)
        scopes = _scopes(data)
        for kid, message in data["holders"][name]["grants"].items():
            scope = scopes[kid]
            key = open_grant(name, private, scope, kid, message)
            if scope.startswith(DEPARTMENT):
                unlocked.departments[kid] = (scope[len(DEPARTMENT):], key)
            else:
                unlocked.keys[kid] = (scope, key)
        return unlocked

    def recovery_public_key(self) -> envelope.PublicKey:
        """The recovery key's own public key: what is sealed to it opens with the recovery
        key only (bytes a damaged segment left unreadable: no sector can claim them)."""
        holder = self._load()["holders"][RECOVERY]
        return envelope.PublicKey(holder["kid"], unb64(holder["key"]))

    def recovery_private_key(self, code: str) -> ec.EllipticCurvePrivateKey:
        """The recovery key's own private key, in memory, for what `recovery_public_key` sealed."""
        own = self.unlock_recovery(code, keep_own=True).own
        assert own is not None  # keep_own=True always keeps it
        return own

    def _as_now(self, data: dict[str, Any], by: Unlocked) -> Unlocked:
        """`by`, with the grants it holds in the keyring as it stands now (under the lock):
        keys a rotation made after `by` was unlocked are sealed to it too, and to the key
        pair a grant or a password set may have given it meanwhile."""
        holder = data["holders"].get(by.holder)
        if by.own is None or by.secret is None:
            return by  # unlocked for reading only: what it held when unlocked
        if holder is None:
            raise KeysError(f"'{by.holder}' lost its keys while this command ran")
        own = by.own
        if holder["kid"] != envelope.public_key_of(own).kid:
            # A new key pair meanwhile: open it with the secret held (scrypt once, under the lock).
            own = open_lock(by.holder, holder, by.secret)
            if own is None:
                raise KeysError(f"the password of '{by.holder}' was changed while this command ran: run it again")
        return self._open_grants(data, by.holder, own, by.secret)

    # --- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The keyring as it stands, under the secret files' lock, for one change; saved
        (with `public.json`) when the block ends without an exception."""
        with changing_secrets(self.data_dir, self.change) as change:
            data = Keyring(self.data_dir, self.scrypt, change)._load()
            yield data
            self._stage(change, data)

    @staticmethod
    def _stage(change: SecretsChange, data: dict[str, Any]) -> None:
        change.write(KEYRING, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
        # Derived from the keyring, and saved in the same change: never stale after a kill.
        public = {s: {"kid": e[-1]["kid"], "key": e[-1]["key"]} for s, e in sorted(data["sectors"].items())}
        change.write(PUBLIC, json.dumps({"v": 1, "sectors": public}, indent=1).encode("utf-8"))

    def _password_kdf(self) -> dict[str, Any]:
        return {"alg": "scrypt", **self.scrypt, "salt": b64(os.urandom(16))}

    @staticmethod
    def _may_read(access: str | list[str], scope: str) -> bool:
        return access == _ALL or scope in access

    def init(self, sectors: Iterable[str], now: datetime | None = None, *, departments: Iterable[str] = ()) -> str:
        """Keys in effect at once; returns the recovery key. For programs that keep the key
        themselves; the command line shows it first (`prepare`, then `activate`)."""
        pending = self.prepare(sectors, now, departments=departments)
        self.activate(pending)
        return pending.code

    def prepare(self, sectors: Iterable[str], now: datetime | None = None, *,
                departments: Iterable[str] = ()) -> PendingKeys:
        """A key pair per sector and per department and the recovery key, in memory only:
        nothing is sealed to them, and nothing is saved, until `activate`."""
        if self.exists():
            raise KeysError("keys already exist: use `minqing keys rotate` for new ones")
        secret = os.urandom(32)
        _, recovery = lock_new(RECOVERY, secret, {"alg": "hkdf-sha256"})
        data = {"v": 1, "sectors": {}, "departments": {},
                "holders": {RECOVERY: {**recovery, "access": _ALL, "grants": {}}}}
        self._add_keys(data, sectors, departments, now)
        return PendingKeys(format_recovery(secret), data)

    def activate(self, pending: PendingKeys) -> None:
        """Save prepared keys: from now on the server seals to them."""
        with changing_secrets(self.data_dir, self.change) as change:
            if change.read(KEYRING) is not None:
                raise KeysError("keys were made meanwhile by another `keys init`: that recovery key opens nothing, "
                                "destroy it")
            self._stage(change, pending.data)

    def rotate(self, sectors: Iterable[str], now: datetime | None = None, *,
               departments: Iterable[str] = ()) -> dict[str, str]:
        """A new key pair for each sector and department (new ones too), sealed to every
        holder who may read it. Old pairs stay, so what was sealed to them still opens.
        Returns scope (sector id, or `dept:<id>`) -> kid."""
        with self._changing() as data:
            return self._add_keys(data, sectors, departments, now)

    def _add_keys(self, data, sectors, departments, now) -> dict[str, str]:
        stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        made = {}
        wanted = [(data["sectors"], s, s) for s in sectors]
        wanted += [(data.setdefault("departments", {}), d, DEPARTMENT + d) for d in departments]
        for table, name, scope in wanted:
            private = envelope.generate_private_key()
            public = envelope.public_key_of(private)
            table.setdefault(name, []).append({"kid": public.kid, "key": b64(public.point), "created_at": stamp})
            for holder_name, holder in data["holders"].items():
                if self._may_read(holder["access"], scope):
                    holder["grants"][public.kid] = grant_message(holder_name, holder, scope, public.kid, private)
            made[scope] = public.kid
        return made

    def enroll(self, by: Unlocked, name: str, password: str, access: str | list[str] | None) -> None:
        """Give an office account its own locked key pair and every key (old ones too) it
        may read, taken from `by` (a staff account or the recovery key, unlocked).
        Replaces what the account held before: also the way back from a forgotten password."""
        if name == RECOVERY:
            raise KeysError("the recovery key is made by `keys init` only")
        with self._changing() as data:
            if access is None:
                data["holders"].pop(name, None)
                return
            by = self._as_now(data, by)
            scopes = _scopes(data)
            needed = {kid for kid, scope in scopes.items() if self._may_read(access, scope)}
            held = {kid: (scope, key) for kid, (scope, key) in by.keys.items()}
            held.update({kid: (DEPARTMENT + d, key) for kid, (d, key) in by.departments.items()})
            missing = needed - set(held)
            if missing:
                names = sorted({scopes[k] for k in missing})
                raise KeysError(f"'{by.holder}' cannot give keys it does not hold ({', '.join(names)})")
            _, holder = lock_new(name, password.encode("utf-8"), self._password_kdf())
            holder = {**holder, "access": access, "grants": {}}
            for kid in sorted(needed):
                scope, private = held[kid]
                holder["grants"][kid] = grant_message(name, holder, scope, kid, private)
            data["holders"][name] = holder

    def rewrap(self, name: str, old_password: str, new_password: str) -> None:
        """A new password for an account: its own private key locked again, nothing else changes."""
        with self._changing() as data:
            holder = data["holders"].get(name)
            if holder is None:
                raise KeysError(f"'{name}' holds no keys")
            private = open_lock(name, holder, old_password.encode("utf-8"))
            if private is None:
                raise KeysError(f"the current password of '{name}' is wrong")
            holder.update(relock(name, private, new_password.encode("utf-8"), self._password_kdf()))

    def remove(self, name: str) -> None:
        if name == RECOVERY:
            raise KeysError("the recovery key cannot be removed")
        with self._changing() as data:
            data["holders"].pop(name, None)
