"""A dispatched matter's words sealed again, to the department it is dispatched to.

A department account holds no sector key: it reads only the matters dispatched to it
(lead or 协办), whatever their sector. So at 交办 (and 改派, and a 协办 unit added), the
office, holding the record's words open in a staff session, seals them again to the
department's current key (`keyring.Keyring.department_keys`), and the store keeps that
copy beside the record (`store.DepartmentCopies`), one per department on the matter.

    {"v": 1, "suite": "P256-SHA256-AES256GCM", "kid": "<16 hex>", "department": "<id>",
     "text": "<base64url enc||ct>"}

The same HPKE suite and padding as a record's envelope (`envelope.py`): the length tells
only how many 256-byte blocks the words fill. The words only: never the phone, which is
for staff alone. Binding: the `info` holds its own label (so a copy never passes for a
record's envelope, nor the reverse), the department id, the key id and the record's
clear fields (id, station_id, created_at, rating), each length-prefixed: a copy moved to
another record, or filed under another department, does not open.

Who may open which copy is decided before any key is touched (`office/department_copies.py`:
only a department the matter is dispatched to now); a department's session holds only
its own department's keys anyway, and after 改派 the old department's copy is removed
in the same write that files the new one's.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec

from sync_server.sealing import envelope

__all__ = ["LABEL", "open_copy", "seal_copy"]

LABEL = b"minqing-dept-copy-v1"
_LONE = re.compile("[\ud800-\udfff]")


def _info(department: str, kid: str, clear: Mapping[str, Any]) -> bytes:
    out = bytearray(LABEL)
    for field in (department, kid, clear["id"], clear["station_id"], clear["created_at"], clear.get("rating") or ""):
        data = _LONE.sub("\ufffd", str(field)).encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def seal_copy(clear: Mapping[str, Any], department: str, feeling: str, suggestion: str,
              key: envelope.PublicKey) -> dict[str, Any]:
    """The copy of these opened words for `department`, sealed to its key."""
    # Words the office opened carry U+FFFD for lone surrogates already (`envelope.Opened`).
    words = {"feeling": _LONE.sub("\ufffd", feeling), "suggestion": _LONE.sub("\ufffd", suggestion)}
    body = json.dumps(words, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\x80"
    body += b"\x00" * (-len(body) % envelope.BLOCK)
    message = envelope.seal_bytes(key, _info(department, key.kid, clear), body)
    return {"v": envelope.VERSION, "suite": envelope.SUITE, "kid": key.kid, "department": department,
            "text": _b64(message)}


def _refused(english: str) -> envelope.SealError:
    return envelope.SealError("tampered", "部门副本无法解开：内容被改动过，或不属于这条记录、这个部门。", english)


def open_copy(clear: Mapping[str, Any], department: str, copy: Mapping[str, Any],
              private: ec.EllipticCurvePrivateKey) -> envelope.Opened:
    """The words of a copy filed under `department`; SealError when it does not open."""
    if not isinstance(copy, Mapping) or copy.get("department") != department or copy.get("v") != envelope.VERSION \
            or copy.get("suite") != envelope.SUITE or not isinstance(copy.get("text"), str):
        raise _refused("not a department copy for this department")
    kid = envelope.public_key_of(private).kid
    if copy.get("kid") != kid:
        raise envelope.SealError("wrong_key", "这份部门副本不是用这把钥匙加密的。", f"the copy is sealed to {copy.get('kid')}")
    try:
        raw = base64.urlsafe_b64decode(copy["text"] + "=" * (-len(copy["text"]) % 4))
        padded = envelope.open_bytes(private, _info(department, kid, clear), raw)
    except (InvalidTag, ValueError):
        raise _refused("the department copy does not open: altered, or moved") from None
    stripped = padded.rstrip(b"\x00")
    try:
        if not stripped.endswith(b"\x80") or len(padded) % envelope.BLOCK:
            raise ValueError
        body = json.loads(stripped[:-1].decode("utf-8"))
        feeling, suggestion = body["feeling"], body["suggestion"]
        if not isinstance(feeling, str) or not isinstance(suggestion, str):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise _refused("the department copy's plaintext is not what seal_copy writes") from None
    # JSON can carry a lone surrogate as an escape: never passed on (see `envelope.Opened`).
    well_formed = not _LONE.search(feeling + suggestion)
    return envelope.Opened(_LONE.sub("\ufffd", feeling), _LONE.sub("\ufffd", suggestion), well_formed)
