"""The sealed-envelope format: a citizen's words encrypted to a sector's public key.

The one Python module that knows the format; `site/docs/js/seal.js` is its twin in the
browser, and both are held to `tests/seal_vectors.json`.

A sealed record keeps in clear what routing and counting need (id, station_id,
created_at, rating, consent, times) and carries the rest in `sealed`:

    {"v": 1, "suite": "P256-SHA256-AES256GCM", "kid": "<16 hex>",
     "text": "<base64url enc||ct>", "phone": "<base64url enc||ct>" | null}

Each of `text` and `phone` is one HPKE (RFC 9180) base-mode single-shot message:
DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; `enc` is the 65-byte ephemeral
public key, a fresh one per message. The phone is its own message so retention can drop
it and leave the text readable.

Binding: the HPKE `info` holds a label naming the part ("text" or "phone"), the key id
and the clear fields id, station_id, created_at and rating, each length-prefixed. `info`
enters the key schedule, so changing any of them (or moving a phone message into the
text slot, or a message onto another record) derives another key and AES-GCM
authentication fails. (pyca/cryptography's single-shot HPKE takes `info` but no `aad`;
for one message per context the two bind equally.)

Padding: the plaintext is UTF-8 JSON, then 0x80, then zero bytes up to a multiple of 256,
so the ciphertext's length says only how many 256-byte blocks the words fill.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync_server.words import MAX_JSON_BYTES_PER_CHARACTER, TEXT_LIMIT

__all__ = [
    "BLOCK",
    "SEALED_FIELDS",
    "SUITE",
    "VERSION",
    "PublicKey",
    "SealError",
    "Opened",
    "check_envelope",
    "check_sealed_record",
    "generate_private_key",
    "key_id",
    "open_bytes",
    "open_phone",
    "open_text",
    "open_texts",
    "private_from_bytes",
    "private_to_bytes",
    "public_key_of",
    "quick_key",
    "quick_open",
    "quick_seal",
    "seal",
    "seal_bytes",
    "seal_record",
]

VERSION = 1
SUITE = "P256-SHA256-AES256GCM"
BLOCK = 256
ENC_BYTES = 65
TAG_BYTES = 16
# The longest valid words, from the same rules the plain path checks (`sync_server/words.py`):
# both fields at the limit, every character at its most bytes in UTF-8 JSON, then the
# padding's 0x80. An envelope above it carries words no valid submission has.
_LONGEST_WORDS = len(b'{"feeling":"","suggestion":""}') + 2 * TEXT_LIMIT * MAX_JSON_BYTES_PER_CHARACTER + 1
MAX_TEXT_BLOCKS = -(-_LONGEST_WORDS // BLOCK)
_LABEL = b"minqing-seal-v1"
_KID = re.compile(r"^[0-9a-f]{16}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_LONE = re.compile("[\ud800-\udfff]")
_SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class SealError(ValueError):
    """A sealed record that cannot be accepted or opened. `message` is for people (Chinese),
    `english` for logs and the command line."""

    def __init__(self, code: str, message: str, english: str) -> None:
        super().__init__(english)
        self.code, self.message, self.english = code, message, english


def _bad(english: str) -> SealError:
    return SealError("invalid_envelope", "加密记录的格式不对，无法接收。", english)


def _tampered(part: str) -> SealError:
    return SealError(
        "tampered",
        "加密记录无法解开：内容被改动过，或不属于这条记录、这个民情哨。",
        f"the sealed {part} does not open: altered, or moved from another record or station",
    )


@dataclass(frozen=True)
class PublicKey:
    kid: str
    point: bytes  # uncompressed SEC1, 65 bytes

    @classmethod
    def from_point(cls, point: bytes) -> PublicKey:
        return cls(key_id(point), point)

    def as_json(self) -> dict[str, str]:
        return {"kid": self.kid, "key": _b64(self.point)}


@dataclass(frozen=True)
class Opened:
    feeling: str
    suggestion: str
    # False when the sealed words carried lone surrogates (a client other than the page),
    # replaced by U+FFFD here: the office flags the words as breaking the rules.
    well_formed: bool = True


def key_id(point: bytes) -> str:
    """A public key's id: the first 64 bits of its SHA-256, in hex."""
    return hashlib.sha256(point).hexdigest()[:16]


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_key_of(private: ec.EllipticCurvePrivateKey) -> PublicKey:
    point = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return PublicKey.from_point(point)


def private_to_bytes(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.private_numbers().private_value.to_bytes(32, "big")


def private_from_bytes(raw: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.match(text):
        raise _bad("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _bad("not base64url") from None


def _info(part: str, kid: str, clear: Mapping[str, Any]) -> bytes:
    fields = [part, kid, clear["id"], clear["station_id"], clear["created_at"], clear.get("rating") or ""]
    out = bytearray(_LABEL)
    for field in fields:
        try:
            data = str(field).encode("utf-8")
        except UnicodeEncodeError:
            raise _bad("a clear field is not valid Unicode") from None
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _pad(data: bytes) -> bytes:
    data += b"\x80"
    return data + b"\x00" * (-len(data) % BLOCK)


def _unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80") or len(data) % BLOCK:
        raise _bad("bad padding")
    return stripped[:-1]


def _plain(obj: dict[str, str]) -> bytes:
    # Same bytes as JSON.stringify for these strings, so vectors can compare plaintexts.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def seal(clear: Mapping[str, Any], feeling: str, suggestion: str, phone: str | None, key: PublicKey) -> dict[str, Any]:
    """The `sealed` object for a record whose clear fields are `clear`."""
    recipient = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.point)
    feeling, suggestion = _LONE.sub("\ufffd", feeling), _LONE.sub("\ufffd", suggestion)
    text = _SUITE.encrypt(_pad(_plain({"feeling": feeling, "suggestion": suggestion})), recipient,
                          info=_info("text", key.kid, clear))
    sealed_phone = None
    if phone:
        sealed_phone = _b64(_SUITE.encrypt(_pad(_plain({"phone": phone})), recipient, info=_info("phone", key.kid, clear)))
    return {"v": VERSION, "suite": SUITE, "kid": key.kid, "text": _b64(text), "phone": sealed_phone}


def seal_bytes(key: PublicKey, info: bytes, plaintext: bytes) -> bytes:
    """One HPKE message of the same suite, for other uses (sector keys sealed to a holder)."""
    return _SUITE.encrypt(plaintext, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.point), info=info)


def open_bytes(private: ec.EllipticCurvePrivateKey, info: bytes, message: bytes) -> bytes:
    """Open what `seal_bytes` sealed; InvalidTag (from cryptography) when it does not open."""
    return _SUITE.decrypt(message, private, info=info)


def check_envelope(sealed: Any) -> dict[str, Any]:
    """What the server can check without a private key: version, suite, key id, sizes."""
    if not isinstance(sealed, dict) or set(sealed) != {"v", "suite", "kid", "text", "phone"}:
        raise _bad("sealed must be an object with exactly v, suite, kid, text, phone")
    # Every field's type before its value: a malformed envelope is `invalid_envelope`
    # whichever of its fields a client got wrong first.
    if type(sealed["v"]) is not int or not all(isinstance(sealed[f], str) for f in ("suite", "kid", "text")) \
            or not isinstance(sealed["phone"], (str, type(None))):
        raise _bad("v must be a number, suite, kid and text strings, and phone a string or null")
    if sealed["v"] != VERSION or sealed["suite"] != SUITE:
        raise SealError("unsupported", "这条加密记录的版本本系统不认识，请刷新页面后重新提交。",
                        f"unsupported envelope version or suite: {sealed['v']!r} {sealed['suite']!r}")
    if not isinstance(sealed["kid"], str) or not _KID.match(sealed["kid"]):
        raise _bad("kid must be 16 lowercase hex digits")
    text = _unb64(sealed["text"])
    blocks, rest = divmod(len(text) - ENC_BYTES - TAG_BYTES, BLOCK)
    if rest or not 1 <= blocks <= MAX_TEXT_BLOCKS:
        raise _bad(f"text is {len(text)} bytes: not 81 + 256 * (1..{MAX_TEXT_BLOCKS})")
    if sealed["phone"] is not None and len(_unb64(sealed["phone"])) != ENC_BYTES + BLOCK + TAG_BYTES:
        raise _bad("phone must be one block")
    return sealed


def _open(part: str, message: str, clear: Mapping[str, Any], kid: str,
          private: ec.EllipticCurvePrivateKey) -> tuple[dict, bool]:
    """The part's plaintext object, and whether its strings were well formed."""
    try:
        padded = _SUITE.decrypt(_unb64(message), private, info=_info(part, kid, clear))
    except (InvalidTag, ValueError) as exc:
        if isinstance(exc, SealError):
            raise
        raise _tampered(part) from None
    try:
        body = json.loads(_unpad(padded).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(f"the {part} plaintext is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise _bad(f"the {part} plaintext is not a JSON object")
    # JSON can carry a lone surrogate as an escape; it would break every page showing it.
    # It is replaced here, and said (`Opened.well_formed`), so the words are still flagged.
    well_formed = not any(isinstance(v, str) and _LONE.search(v) for v in body.values())
    return {k: _LONE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in body.items()}, well_formed


def _check_key(sealed: Mapping[str, Any], private: ec.EllipticCurvePrivateKey) -> None:
    if public_key_of(private).kid != sealed["kid"]:
        raise SealError("wrong_key", "这条记录不是用这把钥匙加密的。", f"the record is sealed to key {sealed['kid']}, not this one")


def open_text(clear: Mapping[str, Any], sealed: Mapping[str, Any], private: ec.EllipticCurvePrivateKey) -> Opened:
    check_envelope(dict(sealed))
    _check_key(sealed, private)
    body, well_formed = _open("text", sealed["text"], clear, sealed["kid"], private)
    return Opened(str(body.get("feeling", "")), str(body.get("suggestion", "")), well_formed)


def open_phone(clear: Mapping[str, Any], sealed: Mapping[str, Any], private: ec.EllipticCurvePrivateKey) -> str | None:
    """The phone number, or None when there is none (never given, or removed by retention)."""
    check_envelope(dict(sealed))
    if sealed["phone"] is None:
        return None
    _check_key(sealed, private)
    return str(_open("phone", sealed["phone"], clear, sealed["kid"], private)[0].get("phone", ""))


# --- records -----------------------------------------------------------------------
# What integration needs: the server seals on arrival (no JavaScript, no WebCrypto, no
# keys published yet) and `keys seal-existing` seals stored records, both with
# `seal_record`; intake checks a browser-sealed record with `check_sealed_record`.

SEALED_FIELDS = ("feeling", "suggestion", "phone")


def seal_record(record: Mapping[str, Any], key: PublicKey) -> dict[str, Any]:
    """The record with its words and phone replaced by `sealed`; everything else as it was."""
    if "sealed" in record:
        raise ValueError("the record is already sealed")
    sealed = seal(record, record.get("feeling") or "", record.get("suggestion") or "", record.get("phone") or None, key)
    return {**{k: v for k, v in record.items() if k not in SEALED_FIELDS}, "sealed": sealed}


def check_sealed_record(record: Mapping[str, Any], sector_of_kid: Mapping[str, str], station_sector: str) -> None:
    """A browser-sealed record as the server can check it: no plain words beside the
    envelope, a well-formed envelope, a key id the office made, for the station's sector."""
    if any(record.get(field) for field in SEALED_FIELDS):
        raise _bad("a sealed record must not carry feeling, suggestion or phone in clear")
    sealed = check_envelope(record.get("sealed"))
    sector = sector_of_kid.get(sealed["kid"])
    if sector is None:
        raise SealError("unknown_key", "这条记录所用的加密钥匙本系统不认识，请刷新页面后重新提交。",
                        f"unknown key id {sealed['kid']}")
    if sector != station_sector:
        raise SealError("wrong_sector", "这条记录的加密钥匙与民情哨所属领域不符，请刷新页面后重新提交。",
                        f"key {sealed['kid']} belongs to {sector}, the station to {station_sector}")
    if sealed["phone"] is not None and not record.get("consent"):
        raise _bad("a sealed phone needs consent")


# --- the office's quick-open copies ------------------------------------------------
# Opening a sealed text costs one HPKE open (one P-256 ECDH and the HKDF schedule, about
# 0.2 ms here): 100,000 records take half a minute. Once an unlocked session has opened
# them, the office keeps the words a second time, sealed under a symmetric key of the
# same sector key, in batches that open in microseconds per record (see
# `sync_server/quickopen.py`). The key is HKDF-SHA-256 of the sector's private scalar
# (uniformly random, so extraction is sound), with info naming this use and the key id:
# it is never stored, so whoever can open a batch could open the envelopes anyway.
# AES-256-GCM, a random 96-bit nonce per batch, the label and key id as associated data.
# A batch holds id, feeling and suggestion only: never the phone, so retention's removal
# of a phone is not undone by a copy.
#
# Padding: a batch is often one record (opened as it arrives), so its plaintext is padded
# to 256 bytes for each block its records' envelopes fill plus 64 bytes per record (the
# id and the list's punctuation fit in that): its length tells only what the envelopes
# on disk already tell, never the words' exact length. v2: v1 copies were unpadded; they
# no longer open and their records are opened again from the envelopes.

_QUICK_LABEL = b"minqing-quick-v2"
_QUICK_ROOM = 64


def quick_key(private: ec.EllipticCurvePrivateKey) -> bytes:
    kid = public_key_of(private).kid
    return HKDF(hashes.SHA256(), 32, salt=None, info=_QUICK_LABEL + kid.encode()).derive(private_to_bytes(private))


def quick_seal(key: bytes, kid: str, entries: list[tuple[str, str, str]]) -> str:
    """One batch of opened words, (id, feeling, suggestion) each, as one base64url line."""
    nonce = os.urandom(12)
    body = json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\x80"
    size = sum(len(_pad(_plain({"feeling": f, "suggestion": s}))) + _QUICK_ROOM for _, f, s in entries)
    if len(body) > size:  # ids longer than a UUID: never from the intake; still padded
        size = len(body) + (-len(body) % BLOCK)
    body += b"\x00" * (size - len(body))
    return _b64(nonce + AESGCM(key).encrypt(nonce, body, _QUICK_LABEL + kid.encode()))


def quick_open(key: bytes, kid: str, line: str) -> list[tuple[str, str, str]]:
    """The entries of a batch; SealError when it does not open (altered, cut short by a
    crash, or another key's)."""
    raw = _unb64(line)
    try:
        body = AESGCM(key).decrypt(raw[:12], raw[12:], _QUICK_LABEL + kid.encode())
    except (InvalidTag, ValueError):
        raise _tampered("quick copy") from None
    stripped = body.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise _bad("bad padding in a quick copy")
    entries = json.loads(stripped[:-1])
    if not isinstance(entries, list) or not all(
            isinstance(e, list) and len(e) == 3 and all(isinstance(x, str) for x in e) for e in entries):
        raise _bad("a quick copy is not a list of (id, feeling, suggestion)")
    return [(i, f, s) for i, f, s in entries]


def open_texts(records, kid: str, private: ec.EllipticCurvePrivateKey):
    """(id, Opened or SealError) for stored records sealed to `kid`, the office's bulk
    path: the key is checked once, not per record, and the envelope's shape is left to
    HPKE and the padding check (the intake checked it before the write)."""
    if public_key_of(private).kid != kid:
        raise ValueError("the private key is not the key of this kid")
    for record in records:
        sealed = record.get("sealed")
        try:
            if not isinstance(sealed, Mapping) or sealed.get("kid") != kid:
                raise _bad("not sealed to this key")
            body, well_formed = _open("text", sealed["text"], record, kid, private)
            yield record["id"], Opened(str(body.get("feeling", "")), str(body.get("suggestion", "")), well_formed)
        except SealError as error:
            yield record["id"], error
