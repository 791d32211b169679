"""The storage seam: everything the server keeps, as the rest of the server sees it.

The app, the office, the command line, retention and backup reach stored data only
through these interfaces, opened by `sync_server.store.open_store`. An engine fills
them: `store/embedded/` keeps files in the data folder (the default, one process per
folder); a second engine passes the same contract suite (tests/sync_server/store/
contract/), which is written against these promises and nothing else.

Words used below:
- *durable*: once a call returns, a crash of the process or the machine keeps it.
- *atomic*: a kill at any instruction leaves all of it or none of it.
- *a concurrent reader*: another thread of this process, or another process that opened
  the same store read-only (a command-line report while the server runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sync_server.store.fingerprint import Fingerprints

__all__ = ["Accounts", "DepartmentCopies", "Letters", "Store", "StoreLocked", "Submissions", "TriageLog"]

Record = dict[str, Any]


class StoreLocked(RuntimeError):
    """Another process already writes to this store, or it was opened read-only.

    One writer per store: it is what lets the duplicate check and the receipt index live
    in the writer's memory. The message says what to do (stop the other process, or go
    through its API)."""


@runtime_checkable
class Submissions(Protocol):
    """The inbox: every submission the office received, each stored once.

    A record is a dict with at least `id`, `receipt`, `station_id`, `received_at`,
    `fingerprint`; the intake decides what goes in, the store keeps it as given.

    - `add(records)` is atomic and durable: a batch is stored whole or not at all, and
      when `add` returns every record of it survives a crash. Ids are the caller's to
      keep unique (the intake checks `fingerprints` first); `add` does not deduplicate.
    - Arrival: `received_at` (ISO 8601) is kept to the whole minute, in UTC
      (`YYYY-MM-DDTHH:MM:00+00:00`); `add` cuts a finer one down. Records of one upload
      then share it only as every record of that minute does (see `store.arrival`).
    - Ordering: `records()` yields in the order the records were stored, except within
      one minute of `received_at`: each record added lands at a random place among the
      records of its minute stored just before it, so neither a batch's records nor
      their order sit together. Nothing is dropped or doubled by it, and the batch is
      still stored whole or not at all.
    - A concurrent reader sees whole batches only: never half of one.
    - `on_change(records)`, when set, is called after every durable write (add, redact,
      rewrite) with copies of the records written, so a read-side index follows without
      rescanning. It runs on the writing thread. For `add` they come in the batch's
      order and one call per batch: whatever a follower keeps must not keep that
      grouping or order within a minute (the office's list places each at random among
      its minute's, its quick-open copies wait for the minute's end).
    - Lookups by id or receipt answer from memory in the writer: no disk read.
    - `redact_phones` and `rewrite` change stored records in place, each unit of storage
      (a segment, a row) atomically: killed midway, running them again finishes the job.
    - `problems`: damaged storage found, one sentence each; what is readable is served.
      `warnings`: things ignored (stray files), not damage.
    - Damaged storage an engine sets aside (the embedded engine's quarantine) is still
      data under every rule: `records_with_phones`, `redact_phones` and `rewrite` reach
      the records that can be read in it (without `on_change`: they are not served), and
      `rewrite(change, seal_unreadable)` hands what cannot be read as records to
      `seal_unreadable(bytes)`, whose sealed result replaces it. `forget_unreadable(t)`
      drops that unreadable part where it may hold a record received before `t`
      (retention's longest limit; the damage hides the exact times, so the earliest the
      engine can know stands in, erring towards dropping sooner). Readable records and the place and size of the damage
      are kept for a repair.
    """

    problems: list[str]
    warnings: list[str]
    on_change: Callable[[list[Record]], None] | None

    def __len__(self) -> int: ...

    def __contains__(self, submission_id: str) -> bool: ...

    def add(self, records: list[Record]) -> None: ...

    def get(self, submission_id: str) -> Record | None: ...

    def get_many(self, submission_ids) -> dict[str, Record]: ...

    def records(self) -> Iterator[Record]: ...

    def records_with_phones(self) -> Iterator[Record]:
        """At least every record that may still hold a phone (retention reads only these)."""
        ...

    def fingerprints(self, submission_id: str) -> Fingerprints | None: ...

    def receipt(self, submission_id: str) -> str | None: ...

    def receipt_owner(self, code: str) -> str | None: ...

    def redact_phones(self, submission_ids: set[str]) -> int: ...

    def rewrite(self, change: Callable[[Record], Record | None],
                seal_unreadable: Callable[[bytes], dict[str, Any]] | None = None) -> int:
        """`change` on every record; a record it raises a ValueError with a true
        `leave_record` for is left as it is (in set-aside copies, one `change` cannot
        take is sealed whole by `seal_unreadable`)."""
        ...

    def forget_unreadable(self, received_before: datetime) -> int: ...


@runtime_checkable
class TriageLog(Protocol):
    """The office's triage entries, one per record it touched, by submission id.

    - `put` and `put_many` are atomic and durable: `put_many` stores every entry it is
      given or none (a merge changes two records or neither).
    - The last write of an id wins; `all()` holds one entry per id.
    - Entries are handed out read-only (they read like dicts); writers pass plain dicts.
    - A concurrent reader sees the entries of whole writes only, and catches up with the
      writer's on its next call.
    - `on_change(entries)`, when set, is called after each write with the stored entries.
    - `problems`: damaged entries left out, one sentence each; the rest is served.
    """

    problems: list[str]
    on_change: Callable[[dict[str, Any]], None] | None

    def __len__(self) -> int: ...

    def entry(self, submission_id: str) -> Mapping[str, Any] | None: ...

    def all(self) -> dict[str, Mapping[str, Any]]: ...

    def put(self, submission_id: str, entry: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def put_many(self, entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]: ...


@runtime_checkable
class DepartmentCopies(Protocol):
    """Sealed copies of the words of dispatched matters, one per department a matter is
    dispatched to (lead or 协办), by submission id: what a department's account opens
    with its department key (`sealing/dispatch_copies.py`), since it holds no sector key.

    - A copy is an envelope: a dict of exactly `v` (int), `suite`, `kid`, `department`,
      `text` (strings), its `department` the one it is filed under. `put` refuses
      anything else with a ValueError and stores nothing: plain words never reach it.
    - `put(submission_id, copies)` replaces every copy of that record at once (atomic and
      durable): a department left out loses its copy in the same write; `{}` removes all.
      `put_many({submission_id: copies})` does so for several records in one write.
    - A concurrent reader sees whole puts only, and catches up on its next call.
    - `problems`: damaged storage left out, one sentence each; the rest is served.
    """

    problems: list[str]

    def __len__(self) -> int: ...

    def copies(self, submission_id: str) -> dict[str, dict[str, Any]]: ...

    def ids(self) -> set[str]: ...

    def put(self, submission_id: str, copies: Mapping[str, Mapping[str, Any]]) -> None: ...

    def put_many(self, changes: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None: ...


@runtime_checkable
class Accounts(Protocol):
    """Office accounts: who may log in, with which role, over which sectors.

    - Passwords are kept only as salted scrypt hashes; `authenticate` costs the same
      for an unknown name as for a wrong password.
    - Each change (`add`, `set_password`, `disable`) is atomic and durable, and a change
      made by another process is seen by the next `get` or `authenticate` here.
    - One writer: each change holds the secret files' lock from its read to its save, and
      accounts opened with a `change` (`open_accounts(data_dir, change)`) save with the
      keyring's side of that change, both or neither (`changing_secrets`).
    - `set_password`, `disable` and `set_department` end the account's sessions (its
      generation changes).
    - A department account's `department` is a registry department id (an older one
      may hold a name: the office maps it, see `accounts.in_registry`).
    - `add` refuses a name that exists (`AccountError`); a disabled account keeps its
      name and its history.
    """

    def add(self, name: str, password: str, role: str, display: str = "", sectors=(), department: str = "") -> None: ...

    def set_password(self, name: str, password: str) -> None: ...

    def disable(self, name: str) -> None: ...

    def set_department(self, name: str, department: str) -> None: ...

    def get(self, name: str) -> Any: ...

    def names(self) -> list[str]: ...

    def authenticate(self, name: str, password: str) -> Any: ...

    def problem(self) -> str | None:
        """The accounts' damage, one sentence, or None."""
        ...


@runtime_checkable
class Letters(Protocol):
    """The office's numbered letters: 工作建议函 (kind "letter") and 督办单 (kind
    "supervision"), each a dict the office fills, with its tracking (answered, voided).

    - `issue(kind, year, fields, label)` is atomic and durable: it takes the next number
      of `kind` in `year` and stores the letter with it, both or neither. The next number
      is one more than the highest ever taken for that kind and year, whatever happened
      to the letters since (voided, answered): a number is given once, ever, also across
      a crash. A crash before `issue` returns takes no number and leaves no letter; once
      it returns, both survive. The stored letter is `fields` plus `id` (unique, from the
      kind, year and number), `kind`, `year`, `n`, `number` (`label(n)`, the 文号 as
      printed, kept as it was issued whatever the registry's form later becomes) and
      `seq` (the order of issue across kinds).
    - `update(letter_id, changes)` is atomic and durable; `id`, `kind`, `year`, `n` and
      `number` never change (ValueError), an unknown id is a KeyError. Nothing is ever
      deleted: a letter withdrawn is marked, and its number stays taken.
    - `all()` lists the letters in the order they were issued; `get(id)` one, or None.
      Letters are handed out as plain dicts (copies: changing one changes nothing stored).
    - `next_number(kind, year)`: the number `issue` would take now (for a preview; a
      concurrent `issue` may take it first).
    - A concurrent reader sees whole writes only, and catches up on its next call.
    - `problems`: damaged parts left out, one sentence each; the rest is served, and the
      numbers they may have taken stay taken where the engine can still see them.
    """

    problems: list[str]

    def __len__(self) -> int: ...

    def issue(self, kind: str, year: int, fields: Mapping[str, Any], label: Callable[[int], str]) -> dict[str, Any]: ...

    def update(self, letter_id: str, changes: Mapping[str, Any]) -> dict[str, Any]: ...

    def get(self, letter_id: str) -> dict[str, Any] | None: ...

    def all(self) -> list[dict[str, Any]]: ...

    def next_number(self, kind: str, year: int) -> int: ...


@runtime_checkable
class Store(Protocol):
    """One opened store: its collections, and what concerns them together.

    Opened as the writer (the server, `inbox import`, retention by hand) it holds the
    one-writer lock until `close`; opened read-only (`writer=False`) it takes no lock and
    refuses writes with `StoreLocked`.
    """

    submissions: Submissions
    triage: TriageLog
    accounts: Accounts
    letters: Letters
    department_copies: DepartmentCopies

    def problems(self) -> list[str]:
        """Damage found in any collection, one sentence each (also in /api/health)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
