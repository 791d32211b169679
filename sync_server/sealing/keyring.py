"""Sector keys and who holds them: the keyring in `DATA_DIR/keys/`.

One P-256 key pair per sector seals the citizens' words (see `envelope.py`); a rotation
adds a new pair and keeps the old ones, so old records still open. Nobody holds a sector's
private key in clear on disk. Instead, as GlobaLeaks does for its recipients:

- every holder (an office account, or the recovery key) has its own P-256 key pair; its
  private key is locked with AES-256-GCM under a key derived from the holder's secret:
  scrypt (N=2^17, r=8, p=1, 16-byte salt, 32 bytes out) of an account's password, or
  HKDF-SHA-256 of the 256-bit recovery key (already random, so no stretching);
- each sector private key a holder may read is sealed to the holder's public key (one
  HPKE message, the same suite as the records), its `info` naming holder, sector and key.

So a rotation or a new sector needs nobody's password (it seals to public keys), while
giving a new holder the existing keys needs someone who holds them unlocked: a staff
account or the recovery key. Who may read what follows the office roles: staff every
sector, a department its own, a viewer none.

Files: `keyring.json` (everything above, the one source) and `public.json` (the current
public key of each sector, for the build), 0600 in a 0700 folder. Only the command line
writes them, and only as one change to the secret files (`store.changing_secrets`): under
one lock from the fresh read to the save, so no command saves an older copy over a key
another made, and through one journal, so both files (and the accounts', when a password
changes) are saved together or not at all. `init` makes its keys in memory and saves them
only once the recovery key has reached the operator (`prepare`, then `activate`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync_server.sealing import envelope
from sync_server.store import SecretsChange, changing_secrets, repair_secrets
from sync_server.store.accounts import SCRYPT

__all__ = ["RECOVERY", "SCRYPT", "Keyring", "KeysError", "PendingKeys", "Unlocked", "access_of", "format_recovery",
           "parse_recovery"]

KEYS_DIR = "keys"
KEYRING = f"{KEYS_DIR}/keyring.json"
PUBLIC = f"{KEYS_DIR}/public.json"
RECOVERY = "@recovery"
_ALL = "*"


class KeysError(ValueError):
    """A keyring operation that cannot be done; the text is English, for the command line."""


@dataclass
class Unlocked:
    """A holder's sector private keys, in memory only: kid -> (sector, private key). For a
    command that gives keys, its own private key and the secret that unlocked it too
    (`own`, `secret`), so the change can open the grants again from the keyring as it
    stands under the lock: a rotation may have added keys since, sealed to a key pair that
    a grant or a password set meanwhile gave the holder. An office session keeps neither."""

    holder: str
    keys: dict[str, tuple[str, ec.EllipticCurvePrivateKey]] = field(default_factory=dict)
    own: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    secret: bytes | None = field(default=None, repr=False)

    def private(self, kid: str) -> tuple[str, ec.EllipticCurvePrivateKey] | None:
        return self.keys.get(kid)

    def sectors(self) -> set[str]:
        return {sector for sector, _ in self.keys.values()}

    def forget(self) -> None:
        # Python cannot wipe memory; dropping the references is what it can do.
        self.keys.clear()
        self.own = self.secret = None


@dataclass(frozen=True)
class PendingKeys:
    """Keys made by `Keyring.prepare`, not yet in effect: `code` is the recovery key."""

    code: str
    data: dict[str, Any] = field(repr=False)


def access_of(role: str, sectors: Iterable[str]) -> str | list[str] | None:
    """Which sectors an office role reads: staff all, department its own, viewer none."""
    if role == "staff":
        return _ALL
    if role == "department":
        return sorted(sectors)
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _joined(*parts: str) -> bytes:
    return b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)


def format_recovery(secret: bytes) -> str:
    """The recovery key for paper: base32 in groups of four, e.g. ABCD-EFGH-..."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery(text: str) -> bytes:
    # Forgive what people do when they copy a key by hand: case, spaces, 0/O, 1/I, 8/B.
    cleaned = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("018", "OIB"))
    try:
        secret = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise KeysError("that is not a recovery key (52 letters and digits in groups of four)") from None
    if len(secret) != 32:
        raise KeysError("that is not a recovery key (52 letters and digits in groups of four)")
    return secret


def _derive(kdf: dict[str, Any], secret: bytes) -> bytes:
    if kdf["alg"] == "scrypt":
        n, r, p = kdf["n"], kdf["r"], kdf["p"]
        return hashlib.scrypt(secret, salt=_unb64(kdf["salt"]), n=n, r=r, p=p, dklen=32, maxmem=256 * r * n + 2**20)
    if kdf["alg"] == "hkdf-sha256":
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"minqing-recovery-v1").derive(secret)
    raise KeysError(f"unknown key derivation {kdf['alg']!r}")


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
        return {s: envelope.PublicKey(entries[-1]["kid"], _unb64(entries[-1]["key"]))
                for s, entries in self._load()["sectors"].items()}

    def sector_of(self) -> dict[str, str]:
        """Every key id ever made, old ones too, with its sector."""
        if not self.exists():
            return {}
        return {e["kid"]: s for s, entries in self._load()["sectors"].items() for e in entries}

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
        own = None if holder is None else self._open_lock(name, holder, secret)
        if own is None:
            raise KeysError("the recovery key is wrong" if name == RECOVERY else f"'{name}' holds no keys, or the password is wrong")
        return self._open_grants(data, name, own, secret if keep_own else None)

    @staticmethod
    def _open_lock(name: str, holder: dict[str, Any], secret: bytes) -> ec.EllipticCurvePrivateKey | None:
        """The holder's own private key, or None when `secret` does not open its lock."""
        lock = holder["lock"]
        try:
            raw = AESGCM(_derive(lock["kdf"], secret)).decrypt(
                _unb64(lock["nonce"]), _unb64(lock["ct"]), _joined("minqing-holder-v1", name, holder["kid"]))
        except InvalidTag:
            return None
        return envelope.private_from_bytes(raw)

    @staticmethod
    def _open_grants(data: dict[str, Any], name: str, private: ec.EllipticCurvePrivateKey, kept: bytes | None) -> Unlocked:
        """`kept`: the unlocking secret, for a command that gives keys (with the own key then)."""
        unlocked = Unlocked(name, own=private if kept is not None else None, secret=kept)
        kids = {e["kid"]: s for s, entries in data["sectors"].items() for e in entries}
        for kid, message in data["holders"][name]["grants"].items():
            sector = kids[kid]
            try:
                raw = envelope.open_bytes(private, _joined("minqing-grant-v1", name, sector, kid), _unb64(message))
            except InvalidTag:
                raise KeysError(f"the keyring is damaged: the grant of {kid} to '{name}' does not open") from None
            key = envelope.private_from_bytes(raw)
            if envelope.public_key_of(key).kid != kid:
                raise KeysError(f"the keyring is damaged: the key granted as {kid} is another key")
            unlocked.keys[kid] = (sector, key)
        return unlocked

    def recovery_public_key(self) -> envelope.PublicKey:
        """The recovery key's own public key: what is sealed to it opens with the recovery
        key only (bytes a damaged segment left unreadable: no sector can claim them)."""
        holder = self._load()["holders"][RECOVERY]
        return envelope.PublicKey(holder["kid"], _unb64(holder["key"]))

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
            own = self._open_lock(by.holder, holder, by.secret)
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

    def _lock(self, name: str, secret: bytes, kdf: dict[str, Any]) -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
        private = envelope.generate_private_key()
        public = envelope.public_key_of(private)
        return private, self._relock(name, private, public, secret, kdf)

    def _relock(self, name, private, public, secret: bytes, kdf: dict[str, Any]) -> dict[str, Any]:
        nonce = os.urandom(12)
        ct = AESGCM(_derive(kdf, secret)).encrypt(nonce, envelope.private_to_bytes(private),
                                                  _joined("minqing-holder-v1", name, public.kid))
        return {"kid": public.kid, "key": _b64(public.point),
                "lock": {"kdf": kdf, "nonce": _b64(nonce), "ct": _b64(ct)}}

    def _password_kdf(self) -> dict[str, Any]:
        return {"alg": "scrypt", **self.scrypt, "salt": _b64(os.urandom(16))}

    @staticmethod
    def _grant(holder_name: str, holder: dict[str, Any], sector: str, kid: str, private: ec.EllipticCurvePrivateKey) -> None:
        public = envelope.PublicKey(holder["kid"], _unb64(holder["key"]))
        message = envelope.seal_bytes(public, _joined("minqing-grant-v1", holder_name, sector, kid),
                                     envelope.private_to_bytes(private))
        holder["grants"][kid] = _b64(message)

    @staticmethod
    def _may_read(access: str | list[str], sector: str) -> bool:
        return access == _ALL or sector in access

    def init(self, sectors: Iterable[str], now: datetime | None = None) -> str:
        """Keys in effect at once; returns the recovery key. For programs that keep the key
        themselves; the command line shows it first (`prepare`, then `activate`)."""
        pending = self.prepare(sectors, now)
        self.activate(pending)
        return pending.code

    def prepare(self, sectors: Iterable[str], now: datetime | None = None) -> PendingKeys:
        """A key pair per sector and the recovery key, in memory only: nothing is sealed to
        them, and nothing is saved, until `activate`."""
        if self.exists():
            raise KeysError("keys already exist: use `minqing keys rotate` for new ones")
        secret = os.urandom(32)
        _, recovery = self._lock(RECOVERY, secret, {"alg": "hkdf-sha256"})
        data = {"v": 1, "sectors": {}, "holders": {RECOVERY: {**recovery, "access": _ALL, "grants": {}}}}
        self._add_sector_keys(data, sectors, now)
        return PendingKeys(format_recovery(secret), data)

    def activate(self, pending: PendingKeys) -> None:
        """Save prepared keys: from now on the server seals to them."""
        with changing_secrets(self.data_dir, self.change) as change:
            if change.read(KEYRING) is not None:
                raise KeysError("keys were made meanwhile by another `keys init`: that recovery key opens nothing, "
                                "destroy it")
            self._stage(change, pending.data)

    def rotate(self, sectors: Iterable[str], now: datetime | None = None) -> dict[str, str]:
        """A new key pair for each sector (new sectors too), sealed to every holder who may
        read it. Old pairs stay, so records sealed to them still open. Returns sector -> kid."""
        with self._changing() as data:
            return self._add_sector_keys(data, sectors, now)

    def _add_sector_keys(self, data, sectors, now) -> dict[str, str]:
        stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        made = {}
        for sector in sectors:
            private = envelope.generate_private_key()
            public = envelope.public_key_of(private)
            data["sectors"].setdefault(sector, []).append({"kid": public.kid, "key": _b64(public.point), "created_at": stamp})
            for name, holder in data["holders"].items():
                if self._may_read(holder["access"], sector):
                    self._grant(name, holder, sector, public.kid, private)
            made[sector] = public.kid
        return made

    def enroll(self, by: Unlocked, name: str, password: str, access: str | list[str] | None) -> None:
        """Give an office account its own locked key pair and every sector key (old ones too)
        it may read, taken from `by` (a staff account or the recovery key, unlocked).
        Replaces what the account held before: also the way back from a forgotten password."""
        if name == RECOVERY:
            raise KeysError("the recovery key is made by `keys init` only")
        with self._changing() as data:
            if access is None:
                data["holders"].pop(name, None)
                return
            by = self._as_now(data, by)
            kids = {e["kid"]: s for s, entries in data["sectors"].items() for e in entries}
            needed = {kid for kid, sector in kids.items() if self._may_read(access, sector)}
            missing = needed - set(by.keys)
            if missing:
                sectors = sorted({kids[k] for k in missing})
                raise KeysError(f"'{by.holder}' cannot give keys it does not hold (sectors {', '.join(sectors)})")
            _, holder = self._lock(name, password.encode("utf-8"), self._password_kdf())
            holder = {**holder, "access": access, "grants": {}}
            for kid in sorted(needed):
                sector, private = by.keys[kid]
                self._grant(name, holder, sector, kid, private)
            data["holders"][name] = holder

    def rewrap(self, name: str, old_password: str, new_password: str) -> None:
        """A new password for an account: its own private key locked again, nothing else changes."""
        with self._changing() as data:
            holder = data["holders"].get(name)
            if holder is None:
                raise KeysError(f"'{name}' holds no keys")
            private = self._open_lock(name, holder, old_password.encode("utf-8"))
            if private is None:
                raise KeysError(f"the current password of '{name}' is wrong")
            holder.update(self._relock(name, private, envelope.public_key_of(private), new_password.encode("utf-8"),
                                       self._password_kdf()))

    def remove(self, name: str) -> None:
        if name == RECOVERY:
            raise KeysError("the recovery key cannot be removed")
        with self._changing() as data:
            data["holders"].pop(name, None)
