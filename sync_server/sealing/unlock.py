"""Office unlock: an office session's sector keys, in memory only, and the one path that
opens a stored record for an account.

Logging in unlocks the account's keys (`keys.Keyring.unlock`) into the session; logging
out or the session's expiry forgets them. `open_record` is the only way the office reads
sealed words: it refuses a record outside the account's sectors before any key is
touched, and a department's session holds only its own sectors' keys anyway, so asking
for another sector's record (by URL, by id, by calling this directly) gets no plain text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_server.sealing.envelope import SealError, open_phone, open_text
from sync_server.sealing.keyring import Keyring, KeysError, Unlocked
from sync_server.store.accounts import Account

__all__ = ["OpenRecord", "SessionKeys", "open_record"]


@dataclass(frozen=True)
class OpenRecord:
    feeling: str
    suggestion: str
    phone: str | None
    well_formed: bool = True  # see `envelope.Opened`


@dataclass
class SessionKeys:
    keyring: Keyring
    clock: Callable[[], float] = time.time
    # Told when a session's keys arrive and go, so what was opened with them (the
    # search over sealed words) lives exactly as long.
    on_unlock: Callable[[str, Unlocked], None] | None = None
    on_forget: Callable[[str], None] | None = None
    _by_token: dict[str, tuple[Unlocked, float]] = field(default_factory=dict)

    def unlock(self, token: str, account: Account, password: str, expires: float) -> bool:
        """At log-in, with the password just checked. False when the account holds no keys
        (keys never made, a viewer, or not yet given keys): the session works unsealed."""
        self.forget_expired()
        if not self.keyring.exists():
            return False
        try:
            unlocked = self.keyring.unlock(account.name, password)
        except KeysError:
            return False
        if account.role == "department":
            # A department reads only its department's copies of matters dispatched to it:
            # sector keys an account kept from before department keys (until `keys grant`)
            # would open, and find by their words, every record of those sectors.
            unlocked.keys.clear()
        self._by_token[token] = (unlocked, expires)
        if self.on_unlock is not None:
            self.on_unlock(token, unlocked)
        return True

    def get(self, token: str | None) -> Unlocked | None:
        entry = self._by_token.get(token or "")
        if entry is None:
            return None
        if entry[1] < self.clock():
            self.forget(token)
            return None
        return entry[0]

    def held_key(self, kid: str):
        """A sector private key some live session holds, or None: for the server's own work
        on what those sessions may read (sealing a dispatched matter's words again to its
        department, `office/department_copies.py`), as the search over sealed words does."""
        now = self.clock()
        for unlocked, expires in list(self._by_token.values()):
            held = unlocked.private(kid) if expires >= now else None
            if held is not None:
                return held[1]
        return None

    def forget(self, token: str | None) -> None:
        entry = self._by_token.pop(token or "", None)
        if entry is not None:
            if self.on_forget is not None:
                self.on_forget(token or "")
            entry[0].forget()

    def forget_expired(self) -> None:
        now = self.clock()
        # A snapshot: log-ins add sessions from a worker thread while the loop sweeps.
        for token in [t for t, (_, expires) in list(self._by_token.items()) if expires < now]:
            self.forget(token)


def _refuse(code: str, message: str, english: str) -> SealError:
    return SealError(code, message, english)


def open_record(account: Account, unlocked: Unlocked | None, record: Mapping[str, Any],
                sector_of_station: Callable[[str], str | None], with_phone: bool = False) -> OpenRecord:
    """The words (and, when asked, the phone) of a stored record, for this account only."""
    sector = sector_of_station(record["station_id"])
    if sector is None or not account.sees_sector(sector):
        raise _refuse("not_your_sector", "这条记录不属于您负责的领域，无权查看。",
                      f"'{account.name}' may not read records of sector {sector!r}")
    sealed = record.get("sealed")
    if sealed is None:  # stored before sealing began, not yet migrated by `keys seal-existing`
        return OpenRecord(record.get("feeling", ""), record.get("suggestion", ""), record.get("phone") if with_phone else None)
    if unlocked is None:
        raise _refuse("locked", "加密记录需要重新登录后才能查看。", "this session holds no keys: log in again")
    held = unlocked.private(sealed.get("kid", "")) if isinstance(sealed, Mapping) else None
    if held is None:
        raise _refuse("no_key", "您的账号没有这条记录所用的钥匙，请联系区扫黑办工作人员。",
                      f"'{account.name}' holds no key {sealed.get('kid') if isinstance(sealed, Mapping) else None!r}")
    key_sector, private = held
    if key_sector != sector:
        # Sealed to another sector's key than its station's: never shown across sectors.
        raise _refuse("wrong_sector", "这条记录的加密钥匙与民情哨所属领域不符，无法查看。",
                      f"record sealed to a key of {key_sector}, station is in {sector}")
    text = open_text(record, sealed, private)
    phone = open_phone(record, sealed, private) if with_phone and record.get("consent") else None
    return OpenRecord(text.feeling, text.suggestion, phone, text.well_formed)
