"""Sealed matters travel with the dispatch: the copies of a dispatched matter's words that
its departments open, kept in step with the triage entries, and the one path by which a
department account reads sealed words.

A department account holds its department's key and no sector key. So the server keeps,
for each sealed record, one copy of its words per department the matter is dispatched to
now (`recipients`: the lead unit and the 协办 units), sealed to that department's key
(`sealing/dispatch_copies.py`), in the store (`store.DepartmentCopies`):

- *When:* after every write of a triage entry (`entries_changed`, the triage log's
  `on_change`: 交办, 改派, a 协办 unit added or removed, an undo, a batch, whatever page
  made it), in the writing thread, under one lock, reading the entry as it stands now.
  A department no longer on the matter loses its copy in that same write; one newly on
  it gets a copy if the words can be opened.
- *With whose key:* the words are opened with a sector key a live staff session holds
  (the one that dispatched, as a rule), in memory, then sealed again to the department's
  current key. Nothing opened is written or kept.
- *When nobody can open them:* no staff session holds the record's key (the staff
  account that dispatched holds none yet), or the department has no key yet (it was
  added to the registry after `keys init`, before `keys rotate`). The removal is still
  done; the missing copy waits (`waiting`), the department's page says it cannot read
  the words yet (`NOT_YET`), the staff record page says why (`missing_notice`), and the
  copy is made at the next write of that entry, or when a staff account logs in (a
  background pass over every dispatched matter, `session_unlocked`).
- *Reading:* `open_for_department` refuses before any key is touched unless the
  account's department is one the matter is dispatched to now; then it opens that
  department's copy with the session's department key. After 改派 the old department
  gets nothing: its copy is gone, and the check says no even if one were left.

A plain record (stored before the keys, not yet sealed by `keys seal-existing`) needs
no copy: its words are shown as they are, to whoever may see the record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sync_server.dispatch.visibility import sees_matter
from sync_server.filestamp import file_stamp
from sync_server.sealing.dispatch_copies import open_copy, seal_copy
from sync_server.sealing.envelope import PublicKey, SealError, open_text
from sync_server.sealing.keyring import Keyring, Unlocked
from sync_server.sealing.unlock import OpenRecord

__all__ = ["NOT_YET", "DepartmentCopier", "department_keys_of", "missing_notice", "open_for_department", "recipients"]

log = logging.getLogger("minqing.office")

NOT_YET = "（已加密：区扫黑办尚未把这条记录的原话交给本部门，请稍后再看，或联系区扫黑办工作人员）"
# Records a background pass handles per hold of the lock: a dispatch waits at most that long.
_PASS = 200


def recipients(entry: Mapping[str, Any] | None) -> frozenset[str]:
    """The departments that read a matter now: its lead unit and its 协办 units, and the
    department that sent it back (退回) while it waits at the office, read-only, as the
    record's visibility has it (`dispatch.visibility.sees_matter`)."""
    if entry is None:
        return frozenset()
    found = {entry.get("department") or "", *(entry.get("co_departments") or ())}
    if entry.get("status") == "returned":
        found.add(entry.get("returned_by") or "")
    found.discard("")
    return frozenset(found)


def open_for_department(account, unlocked: Unlocked | None, record: Mapping[str, Any],
                        entry: Mapping[str, Any] | None, copies: Mapping[str, Mapping[str, Any]]) -> OpenRecord:
    """A sealed record's words for a department account: its department's copy, opened
    with its department key, only while the matter is dispatched to that department."""
    department = account.department or ""
    if account.role != "department" or not sees_matter(account, entry) or department not in recipients(entry):
        raise SealError("not_your_sector", "这条记录没有交办给本部门，无权查看。",
                        f"'{account.name}' is not on this matter")
    copy = copies.get(department)
    if copy is None:
        raise SealError("not_yet", NOT_YET, "no copy of the words for this department yet")
    if unlocked is None:
        raise SealError("locked", "加密记录需要重新登录后才能查看。", "this session holds no keys: log in again")
    held = unlocked.department_private(copy.get("kid", ""))
    if held is None or held[0] != department:
        raise SealError("no_key", "您的账号没有本部门的钥匙，请联系区扫黑办工作人员。",
                        f"'{account.name}' holds no key {copy.get('kid')!r} of {department}")
    words = open_copy(record, department, copy, held[1])
    return OpenRecord(words.feeling, words.suggestion, None, words.well_formed)


def department_keys_of(keyring: Keyring) -> Callable[[], Mapping[str, PublicKey] | None]:
    """Each department's current public key, read again only when the keyring file
    changed (a `keys rotate` beside the running server); None while there are no keys."""
    cached: list[Any] = [object(), None]

    def current() -> Mapping[str, PublicKey] | None:
        stamp = file_stamp(keyring.path)
        if stamp != cached[0]:
            cached[:] = [stamp, keyring.department_keys() if keyring.exists() else None]
        return cached[1]
    return current


def missing_notice(missing: Mapping[str, str], names: Callable[[str], str]) -> str | None:
    """The staff record page's sentence when some departments cannot read the words yet;
    `missing` maps department id -> reason ("no_department_key" or "no_staff_key")."""
    if not missing:
        return None
    listed = "、".join(names(d) for d in sorted(missing))
    if "no_department_key" in missing.values():
        return (f"{listed}暂时看不到这条记录的加密原话：该部门还没有钥匙。"
                "请系统管理员运行 minqing keys rotate，再由持有钥匙的工作人员打开本页。")
    return f"{listed}暂时看不到这条记录的加密原话：需由持有本领域钥匙的工作人员登录后自动交给该部门。"


class DepartmentCopier:
    def __init__(self, copies, triage, fetch: Callable[[str], Mapping[str, Any] | None],
                 department_keys: Callable[[], Mapping[str, PublicKey] | None],
                 held_key: Callable[[str], Any]) -> None:
        """`fetch(id)`: the stored record; `department_keys()`: each department's current
        public key (None: no keys); `held_key(kid)`: a sector private key a live session holds, or None."""
        self.copies, self.triage, self.fetch = copies, triage, fetch
        self.department_keys, self.held_key = department_keys, held_key
        self.waiting: dict[str, dict[str, str]] = {}  # id -> department -> why no copy yet
        self._lock = threading.Lock()
        self._pass: threading.Thread | None = None
        self._again = False
        self.idle = threading.Event()
        self.idle.set()

    # -- keeping in step ---------------------------------------------------------------

    def entries_changed(self, entries: Mapping[str, Any]) -> None:
        """The triage log's `on_change`. The entry is written already: a copy that cannot be
        written now (a full disk) must not turn the action into an error. Its department
        reads nothing meanwhile (`open_for_department` asks the entry, not the copies), and
        the next staff log-in makes it."""
        try:
            self.follow(entries.keys())
        except (OSError, ValueError) as exc:
            log.error("department copies not brought in step (made again at the next staff log-in): %s", exc)

    def follow(self, ids: Iterable[str], unlocked: Unlocked | None = None) -> None:
        """Bring the copies of these records in step with their entries as they stand."""
        with self._lock:
            changes = {}
            for sid in ids:
                new = self._wanted(sid, unlocked)
                if new is not None:
                    changes[sid] = new
            if changes:
                self.copies.put_many(changes)

    def _wanted(self, sid: str, unlocked: Unlocked | None) -> dict[str, Any] | None:
        """Under the lock: the record's copies as they should be, or None when they are."""
        want = recipients(self.triage.entry(sid))
        have = self.copies.copies(sid)
        new = {d: c for d, c in have.items() if d in want}
        missing = want - set(new)
        self.waiting.pop(sid, None)
        if missing:
            made, why = self._make(sid, missing, unlocked)
            new.update(made)
            if why:
                self.waiting[sid] = why
        return None if new == have else new

    def _make(self, sid: str, departments: set[str], unlocked: Unlocked | None):
        keys = self.department_keys()
        if keys is None:
            return {}, {}  # no keys: every record is plain
        record = self.fetch(sid)
        sealed = record.get("sealed") if record is not None else None
        if not isinstance(sealed, Mapping):
            return {}, {}  # plain (or gone): nothing to copy, its words are shown as they are
        kid = sealed.get("kid", "")
        held = unlocked.private(kid) if unlocked is not None else None
        private = held[1] if held is not None else self.held_key(kid)
        why = {d: "no_department_key" for d in departments if d not in keys}
        if private is None:
            return {}, {**{d: "no_staff_key" for d in departments}, **why}
        try:
            words = open_text(record, sealed, private)
        except SealError as error:
            log.warning("a dispatched record's words do not open, so no department copy: %s", error.english)
            return {}, {d: "unreadable" for d in departments}
        made = {d: seal_copy(record, d, words.feeling, words.suggestion, keys[d]) for d in departments if d in keys}
        return made, why

    def missing(self, sid: str) -> dict[str, str]:
        """Departments on this matter that cannot read its sealed words yet, and why."""
        return dict(self.waiting.get(sid, {}))

    # -- catching up -----------------------------------------------------------------

    def session_unlocked(self, token: str, unlocked: Unlocked) -> None:
        """A session with sector keys arrived: make the copies that waited, in the background."""
        if not unlocked.keys:
            return
        with self._lock:
            if self._pass is not None:
                self._again = True
                return
            self.idle.clear()
            self._pass = threading.Thread(target=self._catch_up, daemon=True, name="office-department-copies")
            self._pass.start()

    def _catch_up(self) -> None:
        while True:
            try:
                owed = [sid for sid, entry in self.triage.all().items()
                        if recipients(entry) - set(self.copies.copies(sid)) or sid in self.copies.ids() and
                        set(self.copies.copies(sid)) - recipients(entry)]
                for start in range(0, len(owed), _PASS):
                    self.follow(owed[start:start + _PASS])
            except Exception:  # a background pass must not die silently with the lock state wrong
                log.exception("making department copies failed; they are made again at the next log-in")
            with self._lock:
                if not self._again:
                    self._pass = None
                    self.idle.set()
                    return
                self._again = False
