"""Bytes a damaged segment left unreadable, sealed to the recovery key.

A quarantined segment keeps what could not be read as records: the evidence an
operator mending a damaged disk needs (see `store/embedded/quarantine.py`). Those bytes
hold citizens' words and phones of unknown sectors, so once there are keys they are
sealed to the one holder that may read every sector, the recovery key (its own key
pair, one HPKE message of the records' suite), and opened only with it.
"""

from __future__ import annotations

import base64
from typing import Any

from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring, KeysError

__all__ = ["open_damaged", "seal_damaged"]

INFO = b"minqing.damaged-bytes.v1"


def seal_damaged(keyring: Keyring, raw: bytes) -> dict[str, Any]:
    key = keyring.recovery_public_key()
    return {"v": 1, "kid": key.kid, "message": base64.b64encode(envelope.seal_bytes(key, INFO, raw)).decode("ascii")}


def open_damaged(keyring: Keyring, code: str, sealed: dict[str, Any]) -> bytes:
    """The bytes `seal_damaged` sealed; KeysError when the recovery key is wrong."""
    private = keyring.recovery_private_key(code)
    if envelope.public_key_of(private).kid != sealed.get("kid"):
        raise KeysError("these bytes were sealed to another recovery key")
    return envelope.open_bytes(private, INFO, base64.b64decode(sealed["message"]))
