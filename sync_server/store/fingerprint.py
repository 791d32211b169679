"""Duplicate fingerprints: how the intake tells a resent record from a changed one,
without storing anything that lets a holder of the data folder confirm a guess.

A record carries two digests, both keyed with the installation key (see
`installation`), so the source code and a data folder without the key cannot be used
to test candidate texts or phone numbers:

- `fingerprint`: the citizen's fields without the phone (id, station, time, rating,
  texts). It outlives retention, so a resend is still recognised after the phone went.
- `phone_fingerprint`: phone and consent, or None when there is no phone. Retention
  sets it to None with the phone and adds `"phone_removed"` to the record's flags;
  after that a resend with the same `fingerprint` is a duplicate, whatever phone it
  carries, because nothing stored can say otherwise.

Records stored before this change ("legacy": a plain SHA-256 over every field, phone
included, and no `phone_fingerprint` key) still load and still deduplicate: they are
compared with the same plain digest of the incoming submission. `rekeyed(record, key)`
turns one into the current shape (keyed digests, no `device_id`); rewriting the stored
segments with it is a storage migration and belongs to the inbox.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync_server.store.installation import keyed_digest

__all__ = ["CONTENT_FIELDS", "Fingerprints", "PHONE_REMOVED", "legacy_digest", "rekeyed"]

# The citizen's own fields that identify one submission, phone and consent left out.
CONTENT_FIELDS = ("id", "station_id", "created_at", "rating", "feeling", "suggestion")
PHONE_REMOVED = "phone_removed"
# Domain labels keep the two digests apart even if their inputs ever coincided.
_CONTENT_LABEL = "minqing.fingerprint.v2"
_PHONE_LABEL = "minqing.phone-fingerprint.v2"


def _canonical(fields: Mapping[str, Any], names: tuple[str, ...]) -> str:
    return json.dumps({n: fields.get(n) for n in names}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_digest(key: bytes, fields: Mapping[str, Any]) -> str:
    return keyed_digest(key, _CONTENT_LABEL, _canonical(fields, CONTENT_FIELDS))


def phone_digest(key: bytes, phone: str | None, consent: bool) -> str | None:
    if not phone:
        return None
    return keyed_digest(key, _PHONE_LABEL, phone, "consent" if consent else "no-consent")


def legacy_digest(fields: Mapping[str, Any]) -> str:
    """The unkeyed digest records carried before keyed fingerprints (to compare, never to store)."""
    return hashlib.sha256(_canonical(fields, (*CONTENT_FIELDS, "phone", "consent")).encode()).hexdigest()


@dataclass(frozen=True)
class Fingerprints:
    content: str
    phone: str | None
    phone_removed: bool = False
    legacy: bool = False

    @classmethod
    def of(cls, key: bytes, fields: Mapping[str, Any]) -> Fingerprints:
        """The digests of an incoming submission (its validated fields)."""
        return cls(content_digest(key, fields), phone_digest(key, fields.get("phone"), bool(fields.get("consent"))))

    @classmethod
    def stored(cls, record: Mapping[str, Any]) -> Fingerprints:
        """What a stored record says about itself, legacy records included."""
        removed = PHONE_REMOVED in (record.get("flags") or ())
        if "phone_fingerprint" not in record:
            return cls(str(record.get("fingerprint", "")), None, removed, legacy=True)
        return cls(str(record.get("fingerprint", "")), record.get("phone_fingerprint"), removed)

    def as_record_fields(self) -> dict[str, str | None]:
        return {"fingerprint": self.content, "phone_fingerprint": self.phone}

    def same_submission(self, incoming: Fingerprints, fields: Mapping[str, Any]) -> bool:
        """True when `incoming` (with its validated `fields`) is this stored record sent again."""
        if self.legacy:
            # A legacy digest covers the phone as it was sent, so it also matches after
            # retention removed the stored phone: the resend still carries it.
            return self.content == legacy_digest(fields)
        if self.content != incoming.content:
            return False
        return self.phone_removed or self.phone == incoming.phone


def rekeyed(record: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """A stored record in the current shape: keyed digests, no browser `device_id`.

    For a legacy record whose stored phone no longer matches its old digest (retention
    removed it), the record is flagged `phone_removed`, as retention does today.
    """
    current = {k: v for k, v in record.items() if k != "device_id"}
    if "phone_fingerprint" in record:
        return current
    phone, consent = record.get("phone") or None, bool(record.get("consent"))
    current["fingerprint"] = content_digest(key, record)
    current["phone_fingerprint"] = phone_digest(key, phone, consent)
    flags = list(record.get("flags") or [])
    if phone is None and record.get("fingerprint") != legacy_digest({**record, "phone": None, "consent": False}):
        if PHONE_REMOVED not in flags:
            flags.append(PHONE_REMOVED)
    current["flags"] = flags
    return current
