"""A citizen's words sent by receipt (a verdict's comment, an answer to the office's
question), sealed on arrival to the record's sector key, like a no-JavaScript
submission's words (`on_arrival.py`): the plain text lives only in the request's memory.

    {"v": 1, "suite": "P256-SHA256-AES256GCM", "kid": "<16 hex>", "kind": "verdict"|"answer",
     "step": "<the browser's id of the step>", "text": "<base64url enc||ct>"}

The same HPKE suite and padding as a record's envelope (`envelope.py`). Binding: the
`info` holds its own label (a comment never passes for a record's envelope, nor the
reverse), the kind, the step's id, the key id and the record's clear fields (id,
station_id, created_at, rating), each length-prefixed: words moved to another record, or
a comment passed off as an answer, do not open.

The office opens them with the same session keys as the record's words, and only for an
account that may read the record's sector (`open_citizen_words`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec

from sync_server.sealing import envelope
from sync_server.sealing.keyring import Unlocked

__all__ = ["KINDS", "LABEL", "open_citizen_words", "open_words", "seal_words"]

LABEL = b"minqing-citizen-words-v1"
KINDS = ("verdict", "answer")
_LONE = re.compile("[\ud800-\udfff]")
_FIELDS = {"v", "suite", "kid", "kind", "step", "text"}


def _info(kind: str, step: str, kid: str, clear: Mapping[str, Any]) -> bytes:
    out = bytearray(LABEL)
    for field in (kind, step, kid, clear["id"], clear["station_id"], clear["created_at"], clear.get("rating") or ""):
        data = _LONE.sub("\ufffd", str(field)).encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def seal_words(clear: Mapping[str, Any], kind: str, step: str, text: str, key: envelope.PublicKey) -> dict[str, Any]:
    """`text` sealed to the sector key `key`, bound to the record, the kind and the step."""
    if kind not in KINDS:
        raise ValueError(f"no kind {kind!r}")
    body = json.dumps({"text": _LONE.sub("\ufffd", text)}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    body += b"\x80"
    body += b"\x00" * (-len(body) % envelope.BLOCK)
    message = envelope.seal_bytes(key, _info(kind, step, key.kid, clear), body)
    return {"v": envelope.VERSION, "suite": envelope.SUITE, "kid": key.kid, "kind": kind, "step": step,
            "text": base64.urlsafe_b64encode(message).rstrip(b"=").decode("ascii")}


def _refused(english: str) -> envelope.SealError:
    return envelope.SealError("tampered", "群众补充的内容无法解开：内容被改动过，或不属于这条记录。", english)


def open_words(clear: Mapping[str, Any], sealed: Mapping[str, Any], private: ec.EllipticCurvePrivateKey) -> str:
    """The words of a sealed comment or answer; SealError when they do not open."""
    if not isinstance(sealed, Mapping) or set(sealed) != _FIELDS or sealed.get("v") != envelope.VERSION \
            or sealed.get("suite") != envelope.SUITE or sealed.get("kind") not in KINDS \
            or not all(isinstance(sealed.get(k), str) for k in ("kid", "step", "text")):
        raise _refused("not a citizen's sealed words")
    kid = envelope.public_key_of(private).kid
    if sealed["kid"] != kid:
        raise envelope.SealError("wrong_key", "这段内容不是用这把钥匙加密的。", f"sealed to {sealed['kid']}")
    try:
        raw = base64.urlsafe_b64decode(sealed["text"] + "=" * (-len(sealed["text"]) % 4))
        padded = envelope.open_bytes(private, _info(sealed["kind"], sealed["step"], kid, clear), raw)
        stripped = padded.rstrip(b"\x00")
        if not stripped.endswith(b"\x80") or len(padded) % envelope.BLOCK:
            raise ValueError
        text = json.loads(stripped[:-1].decode("utf-8"))["text"]
        if not isinstance(text, str):
            raise ValueError
    except (InvalidTag, ValueError, KeyError, TypeError, binascii.Error):
        raise _refused("the citizen's words do not open: altered, or moved") from None
    return _LONE.sub("\ufffd", text)


def open_citizen_words(account: Any, unlocked: Unlocked | None, record: Mapping[str, Any],
                       sealed: Mapping[str, Any] | None, sector_of_station: Callable[[str], str | None],
                       plain: str = "") -> str:
    """What the citizen wrote (a verdict's comment, an answer), for this office session.

    `sealed` is the stored envelope (`verdict["comment_sealed"]`, an answer's `sealed`)
    or None, when the words were stored plain (`plain`: a sector without a key). Like
    `unlock.open_record`: refused (SealError with a Chinese message) for an account
    outside the record's sector before any key is touched, or a session without keys."""
    sector = sector_of_station(record["station_id"])
    if sector is None or not account.sees_sector(sector):
        raise envelope.SealError("not_your_sector", "这条记录不属于您负责的领域，无权查看。",
                                 f"'{account.name}' may not read records of sector {sector!r}")
    if sealed is None:
        return plain
    if unlocked is None:
        raise envelope.SealError("locked", "加密内容需要重新登录后才能查看。", "this session holds no keys: log in again")
    held = unlocked.private(sealed.get("kid", "")) if isinstance(sealed, Mapping) else None
    if held is None:
        raise envelope.SealError("no_key", "您的账号没有这段内容所用的钥匙，请联系区扫黑办工作人员。",
                                 f"'{account.name}' holds no key for these words")
    key_sector, private = held
    if key_sector != sector:
        raise envelope.SealError("wrong_sector", "这段内容的加密钥匙与民情哨所属领域不符，无法查看。",
                                 f"sealed to a key of {key_sector}, station is in {sector}")
    return open_words(record, sealed, private)
