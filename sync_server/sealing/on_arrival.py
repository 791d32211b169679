"""What the intake does with sealed words (issue 14): check what a browser sealed, seal
what arrives plain, and fingerprint the sealed bytes.

A browser that has the station's sector key (from `keys.json`) and WebCrypto sends the
record sealed: the intake checks the envelope and its key id and stores it as it came.
A record that arrives plain (no JavaScript, plain HTTP without `crypto.subtle`, a page
from before the keys were published) is sealed here before it is stored, when its
sector has a key; its plain text lives only in this request's memory. A sector with no
key yet stores plain records as before, and the office says so.

Fingerprints of a sealed record are keyed digests of the clear fields and the sealed
bytes, never of the words or phone: a holder of the data folder (which also holds the
installation key) could otherwise test guessed phone numbers against them. A browser's
resend carries the same bytes, so it is a duplicate; a plain resend of a record the
server sealed cannot be compared by its words (the seal is randomised), so it is a
duplicate when its clear fields match, which only another record with the same random
UUID could get wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sync_server.sealing.damaged import seal_damaged
from sync_server.sealing.envelope import PublicKey, check_sealed_record, seal_record
from sync_server.sealing.keyring import Keyring
from sync_server.store.fingerprint import Fingerprints
from sync_server.store.installation import keyed_digest

__all__ = ["CLEAR_FIELDS", "IntakeSealer", "PlainSealer", "UnknownStation", "same_clear_fields", "seal_existing",
           "sealed_fingerprints"]

CLEAR_FIELDS = ("id", "station_id", "created_at", "rating")
_LABEL = "minqing.sealed-fingerprint.v1"
_PHONE_LABEL = "minqing.sealed-phone-fingerprint.v1"


def sealed_fingerprints(key: bytes, record: Mapping[str, Any]) -> Fingerprints:
    sealed = record["sealed"]
    clear = json.dumps({n: record.get(n) for n in CLEAR_FIELDS}, sort_keys=True, separators=(",", ":"))
    content = keyed_digest(key, _LABEL, clear, sealed["kid"], sealed["text"])
    phone = None
    if sealed.get("phone"):
        phone = keyed_digest(key, _PHONE_LABEL, sealed["phone"], "consent" if record.get("consent") else "no-consent")
    return Fingerprints(content, phone)


def same_clear_fields(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    return all(stored.get(n) == incoming.get(n) for n in CLEAR_FIELDS)


class IntakeSealer:
    """The keyring's public side as the intake needs it, reread when `keys rotate` or
    `keys init` rewrote it, so a running server follows without a restart."""

    def __init__(self, data_dir) -> None:
        self.keyring = Keyring(data_dir)
        self._stamp: tuple[int, int, int] | None = None
        self._public: dict[str, PublicKey] = {}
        self._sector_of: dict[str, str] = {}

    def _fresh(self) -> None:
        try:
            st = self.keyring.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._public = self.keyring.public_keys() if stamp else {}
            self._sector_of = self.keyring.sector_of() if stamp else {}
            self._stamp = stamp

    def key_for(self, sector: str) -> PublicKey | None:
        self._fresh()
        return self._public.get(sector)

    def current_kids(self) -> dict[str, str]:
        """sector -> the key id the forms should seal to now (the newest of each sector)."""
        self._fresh()
        return {sector: key.kid for sector, key in self._public.items()}

    def sector_of_kid(self) -> dict[str, str]:
        """Every key id the keyring holds, old ones too, with its sector."""
        self._fresh()
        return self._sector_of

    def unsealed_sectors(self, sectors) -> list[str]:
        """The sectors whose records are still stored plain (no key made for them)."""
        self._fresh()
        return [s for s in sectors if s not in self._public]

    def check(self, record: Mapping[str, Any], station_sector: str) -> None:
        """A browser-sealed record: `SealError` with a sentence when it cannot be stored."""
        self._fresh()
        check_sealed_record(record, self._sector_of, station_sector)

    @staticmethod
    def seal(fields: Mapping[str, Any], key: PublicKey) -> dict[str, Any]:
        """A plain record sealed on arrival. The empty word fields stay so that code
        reading a record's shape finds them; the words are only in `sealed`."""
        return {**seal_record(fields, key), "feeling": "", "suggestion": "", "phone": None}


class UnknownStation(ValueError):
    """A plain record whose station the registry does not know (damage changed its id,
    or the station was removed): no sector, so no sector key may hold its words."""

    leave_record = True  # for `Submissions.rewrite`: leave it as it is (see `PlainSealer`)


class PlainSealer:
    """`change(record)` for `Submissions.rewrite` and for `check --repair`: a plain record
    of a sector with a key, sealed (fingerprints of the sealed bytes); None for one
    already sealed; `left` counts those left plain (their sector has no key).

    A record of an unknown station raises `UnknownStation`: it may not stay plain once
    there are keys, and no sector's key may hold it. The quarantine then seals it whole
    to the recovery key with the unreadable bytes, `check --repair` leaves it there; one
    in the inbox (its station removed from the registry) is left as it is and counted in
    `unknown_ids`, for the operator to put the station back and run again."""

    def __init__(self, stations, key: bytes, data_dir) -> None:
        self.stations, self.key, self.sealer, self.left, self.unknown_ids = stations, key, IntakeSealer(data_dir), 0, set()

    def __call__(self, record: dict[str, Any]) -> dict[str, Any] | None:
        if "sealed" in record:
            return None
        station = self.stations.station(record["station_id"])
        if station is None:
            self.unknown_ids.add(record.get("id"))
            raise UnknownStation(f"record {record.get('id')}: no station {record['station_id']!r} in the registry")
        public = self.sealer.key_for(station.sector)
        if public is None:
            self.left += 1
            return None
        extra = {k: v for k, v in record.items() if k not in ("fingerprint", "phone_fingerprint")}
        # Retention already took the phone of some: nothing to seal there, the flag stays.
        sealed = self.sealer.seal(extra, public)
        return {**sealed, **sealed_fingerprints(self.key, sealed).as_record_fields()}


def seal_existing(inbox, stations, key: bytes, data_dir) -> tuple[int, int]:
    """`minqing keys seal-existing`: seal the plain records stored before the keys, for
    every sector that has a key, segment by segment (see `Inbox.rewrite`), quarantined
    segments too, whose unreadable bytes are sealed to the recovery key; a rerun after a
    kill skips what is already sealed. Returns (sealed now, left plain: no key, left
    plain in the inbox: station unknown). The keys are in `data_dir`, whichever store
    keeps the records."""
    change, keyring = PlainSealer(stations, key, data_dir), Keyring(data_dir)
    sealed = inbox.rewrite(change, lambda raw: seal_damaged(keyring, raw))
    return sealed, change.left, sum(1 for i in change.unknown_ids if i in inbox)
