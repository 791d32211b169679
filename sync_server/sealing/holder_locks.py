"""A keyring holder's own key pair, its lock, and the keys sealed to it.

Every holder (an office account, or the recovery key) has its own P-256 key pair; its
private key is locked with AES-256-GCM under a key derived from the holder's secret:
scrypt (N=2^17, r=8, p=1, 16-byte salt, 32 bytes out) of an account's password, or
HKDF-SHA-256 of the 256-bit recovery key (already random, so no stretching). Each key a
holder may read (a sector's, or a department's) is sealed to the holder's public key as
one HPKE message of the records' suite, its `info` naming holder, scope and key id, so
a grant moved to another holder, scope or key does not open.

The byte-level half of `keyring.py`: that module decides who holds what, this one only
locks, seals and opens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync_server.sealing import envelope

__all__ = ["KeysError", "b64", "format_recovery", "grant_message", "lock_new", "open_grant", "open_lock",
           "parse_recovery", "relock", "unb64"]


class KeysError(ValueError):
    """A keyring operation that cannot be done; the text is English, for the command line."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def joined(*parts: str) -> bytes:
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
        return hashlib.scrypt(secret, salt=unb64(kdf["salt"]), n=n, r=r, p=p, dklen=32, maxmem=256 * r * n + 2**20)
    if kdf["alg"] == "hkdf-sha256":
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"minqing-recovery-v1").derive(secret)
    raise KeysError(f"unknown key derivation {kdf['alg']!r}")


def open_lock(name: str, holder: dict[str, Any], secret: bytes) -> ec.EllipticCurvePrivateKey | None:
    """The holder's own private key, or None when `secret` does not open its lock."""
    lock = holder["lock"]
    try:
        raw = AESGCM(_derive(lock["kdf"], secret)).decrypt(
            unb64(lock["nonce"]), unb64(lock["ct"]), joined("minqing-holder-v1", name, holder["kid"]))
    except InvalidTag:
        return None
    return envelope.private_from_bytes(raw)


def relock(name: str, private: ec.EllipticCurvePrivateKey, secret: bytes, kdf: dict[str, Any]) -> dict[str, Any]:
    """The holder's public key and `private` locked under `secret`."""
    public = envelope.public_key_of(private)
    nonce = os.urandom(12)
    ct = AESGCM(_derive(kdf, secret)).encrypt(nonce, envelope.private_to_bytes(private),
                                              joined("minqing-holder-v1", name, public.kid))
    return {"kid": public.kid, "key": b64(public.point), "lock": {"kdf": kdf, "nonce": b64(nonce), "ct": b64(ct)}}


def lock_new(name: str, secret: bytes, kdf: dict[str, Any]) -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    private = envelope.generate_private_key()
    return private, relock(name, private, secret, kdf)


def grant_message(holder_name: str, holder: dict[str, Any], scope: str, kid: str,
                  private: ec.EllipticCurvePrivateKey) -> str:
    """`private` (a key of `scope`) sealed to the holder's public key."""
    public = envelope.PublicKey(holder["kid"], unb64(holder["key"]))
    return b64(envelope.seal_bytes(public, joined("minqing-grant-v1", holder_name, scope, kid),
                                   envelope.private_to_bytes(private)))


def open_grant(holder_name: str, own: ec.EllipticCurvePrivateKey, scope: str, kid: str,
               message: str) -> ec.EllipticCurvePrivateKey:
    """The key a grant holds, checked to be the key its id names."""
    try:
        raw = envelope.open_bytes(own, joined("minqing-grant-v1", holder_name, scope, kid), unb64(message))
    except InvalidTag:
        raise KeysError(f"the keyring is damaged: the grant of {kid} to '{holder_name}' does not open") from None
    key = envelope.private_from_bytes(raw)
    if envelope.public_key_of(key).kid != kid:
        raise KeysError(f"the keyring is damaged: the key granted as {kid} is another key")
    return key
