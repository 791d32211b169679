"""Search over sealed words: the opened words of sealed records, in this process's memory
only, for the sector keys some logged-in session holds.

Why one shared index and not one per session: the words are the same for every reader
of a sector, and a copy per session would multiply the memory (about 30 MB per 100,000
records) by the number of staff logged in. Sharing costs no secrecy: the index of a key
exists only while at least one live session holds that key, so it is what those
sessions could open anyway; a search reads only the keys its own session holds, for
sectors its account may see, and the read side then narrows to the account's sectors
again. When the last session holding a key ends (logout, expiry, a changed account),
that key's words are dropped. Nothing here is written to disk or to a log; the
quick-open copies (`quickopen.py`) are sealed.

Opening runs in one background thread per process, batch by batch: quick-open copies
first (microseconds a record), then the envelopes not yet copied (one HPKE open each),
whose words are then copied for the next time. Copied a minute at a time: the words of
records received in the newest minute wait in memory until a record of a later minute
arrives (or the server stops, `close`), and are then written with the rest of their
minute in random order, one line a record. Written as each upload was opened, the
file's order would be the order of arrival, each upload's records side by side, which
the store itself does not keep (see `store.arrival`). A stop without `close` (a kill)
costs the newest minute's copies: those records are opened from their envelopes again. Lists answer meanwhile from clear fields
and open their own page's rows; `progress` says how far the search has got.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_server.sealing.envelope import Opened, SealError, open_texts, quick_key
from sync_server.sealing.keyring import Unlocked
from sync_server.sealing.quickopen import QuickCopies
from sync_server.store.arrival import minute_of

__all__ = ["OpenedWords", "Progress"]

log = logging.getLogger("minqing.office")

BATCH = 1024


def _fold(feeling: str, suggestion: str) -> str:
    # The separators of a chunk can never be part of a match (the query is cleaned too).
    return (feeling + "\n" + suggestion).lower().replace("\x00", "")


@dataclass
class _Chunk:
    """Opened words of up to BATCH records as one string, so a search is one str.find
    per chunk at C speed, not a Python test per record."""

    ids: list[str]
    text: str
    starts: list[int]

    @classmethod
    def of(cls, words: list[tuple[str, str]]) -> _Chunk:
        starts, at = [], 0
        for _, text in words:
            starts.append(at)
            at += len(text) + 1
        return cls([i for i, _ in words], "\x00".join(t for _, t in words), starts)

    def find(self, q: str) -> Iterator[str]:
        position, last = self.text.find(q), len(self.starts)
        while position != -1:
            index = bisect.bisect_right(self.starts, position)
            yield self.ids[index - 1]
            if index == last:
                return
            position = self.text.find(q, self.starts[index])


@dataclass
class _Key:
    """One sector key's opened words, while some session holds the key."""

    chunks: list[_Chunk] = field(default_factory=list)  # appended only; readers copy the list
    done: set[str] = field(default_factory=set)  # opened, or found unreadable
    unreadable: int = 0
    quick_read: bool = False
    quick: bytes | None = None  # the key of its quick-open copies, once opening began
    # Opened words not yet copied, with their record's arrival minute (see the module's doc).
    waiting: list[tuple[str | None, tuple[str, str, str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    opened: int
    total: int
    # Sealed to keys of the account's sectors that this session does not hold: made by
    # `keys rotate` after it logged in. Only a new log-in unlocks them.
    newer: int = 0

    @property
    def complete(self) -> bool:
        return self.opened >= self.total


class OpenedWords:
    def __init__(self, fetch: Callable[[list[str]], Mapping[str, Mapping[str, Any]]],
                 quick: QuickCopies | None = None) -> None:
        self._fetch = fetch  # stored records by id (`Inbox.get_many`)
        self._quick = quick
        self._lock = threading.Lock()
        # id -> kid of every stored sealed record, in the order the inbox stores them, so
        # the opener reads each segment once; and how many records each key sealed.
        self._sealed: dict[str, str] = {}
        self._count: dict[str, int] = {}
        self._keys: dict[str, _Key] = {}
        self._sessions: dict[str, Unlocked] = {}
        self._queue: list[str] = []
        self._worker: threading.Thread | None = None
        self._newest: str = ""  # the latest arrival minute of any record noted
        self._writing = threading.Lock()  # the worker and `close` append to the same files
        self.idle = threading.Event()
        self.idle.set()

    # -- what is stored ----------------------------------------------------------------

    def watch(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass records through (the inbox's read at open), noting the sealed ones."""
        for record in records:
            with self._lock:
                self._note(record)
            yield record

    def records_added(self, records: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            kids = {kid for kid in map(self._note, records) if kid}
            self._schedule(k for k in kids if k in self._keys)

    def _note(self, record: Mapping[str, Any]) -> str | None:
        """Under the lock: the worker reads these maps from another thread."""
        sealed = record.get("sealed")
        if not isinstance(sealed, Mapping) or not isinstance(sealed.get("kid"), str):
            return None
        kid = sealed["kid"]
        minute = minute_of(record.get("received_at"))
        if minute is not None and minute > self._newest:
            self._newest = minute
        if record["id"] not in self._sealed:  # a record changed later (retention) is noted again
            self._sealed[record["id"]] = kid
            self._count[kid] = self._count.get(kid, 0) + 1
        return sealed["kid"]

    # -- sessions ----------------------------------------------------------------------

    def session_unlocked(self, token: str, unlocked: Unlocked) -> None:
        with self._lock:
            self._sessions[token] = unlocked
            for kid in unlocked.keys:
                self._keys.setdefault(kid, _Key())
            self._schedule(unlocked.keys)

    def session_ended(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)
            held = self._held()
            for kid in [k for k in self._keys if k not in held]:
                del self._keys[kid]  # the last reader left: its words go

    def _held(self) -> set[str]:
        return {kid for unlocked in self._sessions.values() for kid in unlocked.keys}

    def _private(self, kid: str):
        with self._lock:
            for unlocked in self._sessions.values():
                held = unlocked.private(kid)
                if held is not None:
                    return held[1]
        return None

    # -- reading -----------------------------------------------------------------------

    def _readable(self, unlocked: Unlocked | None, sees_sector: Callable[[str], bool]) -> list[str]:
        if unlocked is None:
            return []
        return [kid for kid, (sector, _) in list(unlocked.keys.items()) if sees_sector(sector)]

    def search(self, unlocked: Unlocked | None, sees_sector: Callable[[str], bool], q: str) -> set[str]:
        """Ids of the sealed records whose words hold q, among the keys this session holds
        for sectors its account sees; what is opened so far (see `progress`)."""
        q = q.lower().replace("\x00", "")
        found: set[str] = set()
        if not q:
            return found
        for kid in self._readable(unlocked, sees_sector):
            state = self._keys.get(kid)
            if state is not None:
                for chunk in list(state.chunks):
                    found.update(chunk.find(q))
        return found

    def words_of(self, unlocked: Unlocked | None, sees_sector: Callable[[str], bool],
                 ids: Iterable[str]) -> dict[str, str]:
        """The opened words (folded: lower case, feeling and suggestion on two lines) of
        those of `ids` opened so far with the keys this session holds for sectors its
        account sees: what the 可能重复 suggestions compare, never more than a search
        could find."""
        wanted = set(ids)
        found: dict[str, str] = {}
        if not wanted:
            return found
        for kid in self._readable(unlocked, sees_sector):
            state = self._keys.get(kid)
            if state is None:
                continue
            for chunk in list(state.chunks):
                for index, rid in enumerate(chunk.ids):
                    if rid in wanted:
                        end = chunk.starts[index + 1] - 1 if index + 1 < len(chunk.starts) else len(chunk.text)
                        found[rid] = chunk.text[chunk.starts[index] : end]
        return found

    def progress(self, unlocked: Unlocked | None, sees_sector: Callable[[str], bool],
                 sector_of_kid: Mapping[str, str] | None = None) -> Progress:
        opened = total = 0
        for kid in self._readable(unlocked, sees_sector):
            state = self._keys.get(kid)
            total += self._count.get(kid, 0)
            opened += len(state.done) if state is not None else 0
        newer = 0
        if unlocked is not None and sector_of_kid:
            newer = sum(count for kid, count in list(self._count.items())
                        if kid not in unlocked.keys and kid in sector_of_kid and sees_sector(sector_of_kid[kid]))
        return Progress(min(opened, total), total, newer)

    # -- opening -----------------------------------------------------------------------

    def _schedule(self, kids: Iterable[str]) -> None:
        """Under the lock: queue keys to open and make sure a worker runs."""
        for kid in kids:
            if kid not in self._queue:
                self._queue.append(kid)
        if self._queue and self._worker is None:
            self.idle.clear()
            self._worker = threading.Thread(target=self._work, daemon=True, name="office-sealed-search")
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                kids, self._queue = self._queue, []
                if not kids:
                    self._worker = None
                    self.idle.set()
                    return
            try:
                self._open(kids)
            except Exception as exc:  # noqa: BLE001 - the next log-in tries again
                log.error("sealed search: opening failed: %s", type(exc).__name__)

    def _open(self, kids: list[str]) -> None:
        """Open what these keys sealed: quick copies first, then the envelopes not yet
        copied, in storage order over every key at once, so each segment is read once."""
        keys = {}
        for kid in kids:
            state, private = self._keys.get(kid), self._private(kid)
            if state is not None and private is not None:
                keys[kid] = (state, private, quick_key(private))
                state.quick = keys[kid][2]
                if not state.quick_read:
                    self._read_quick(kid, state, keys[kid][2])
        with self._lock:
            missing = [i for i, kid in self._sealed.items() if kid in keys and i not in keys[kid][0].done]
        for start in range(0, len(missing), BATCH):
            # A key whose last session ended meanwhile is let go here, private key and
            # all, not after the rest of the pass.
            keys = {kid: held for kid, held in keys.items() if self._keys.get(kid) is held[0]}
            if not keys:
                break
            batch = missing[start:start + BATCH]
            by_kid: dict[str, list] = {}
            for record in self._fetch(batch).values():
                by_kid.setdefault(self._sealed.get(record["id"], ""), []).append(record)
            for kid, records in by_kid.items():
                if kid in keys:
                    self._open_records(kid, *keys[kid][:2], records)
            for submission_id in batch:  # the unreadable too: not tried again and again
                kid = self._sealed.get(submission_id)
                if kid in keys:
                    keys[kid][0].done.add(submission_id)
            # Copied every BATCH records (few fsyncs), what a finished minute holds.
            self._save(keys, everything=False)
        self._save(keys, everything=False)

    def _read_quick(self, kid: str, state: _Key, key: bytes) -> None:
        if self._quick is None:
            return
        kept, bad = self._quick.read(kid, key)
        with self._lock:  # held briefly: the intake's writer thread notes records under it
            ids = [i for i in kept if self._sealed.get(i) == kid]
        words = [(i, _fold(*kept[i])) for i in ids]
        for start in range(0, len(words), BATCH):
            state.chunks.append(_Chunk.of(words[start:start + BATCH]))
        state.done.update(i for i, _ in words)
        state.quick_read = True
        if bad:
            log.warning("sealed search: %d quick-open lines of key %s did not open; opening those again", bad, kid)

    def _open_records(self, kid: str, state: _Key, private, records: list) -> None:
        if self._keys.get(kid) is not state:
            return  # every session holding this key ended meanwhile
        opened: list[tuple[str, str, str]] = []
        minutes = {r["id"]: minute_of(r.get("received_at")) for r in records}
        for submission_id, result in open_texts(records, kid, private):
            if isinstance(result, Opened):
                opened.append((submission_id, result.feeling, result.suggestion))
                with self._lock:
                    state.waiting.append((minutes.get(submission_id), opened[-1]))
            elif isinstance(result, SealError):
                state.unreadable += 1
                log.warning("sealed search: a record sealed to key %s does not open (altered?)", kid)
        state.chunks.append(_Chunk.of([(i, _fold(f, s)) for i, f, s in opened]))

    def _save(self, keys: Mapping[str, Any] | None = None, everything: bool = False) -> None:
        """Copy the waiting words of these keys (all held keys if None): those of minutes
        before the newest, or all of them (`everything`, at the stop)."""
        with self._lock:
            due: list[tuple[str, bytes, list[tuple[str, str, str]]]] = []
            for kid, state in self._keys.items():
                if (keys is not None and kid not in keys) or state.quick is None or not state.waiting:
                    continue
                ready = [e for m, e in state.waiting if everything or m is None or m < self._newest]
                if ready:
                    state.waiting = [(m, e) for m, e in state.waiting if not (everything or m is None or m < self._newest)]
                    due.append((kid, state.quick, ready))
        if self._quick is None:
            return
        with self._writing:
            for kid, key, entries in due:
                try:
                    self._quick.append(kid, key, entries)  # in random order (see `QuickCopies`)
                except OSError as exc:  # a full disk costs time next log-in, nothing else
                    log.warning("sealed search: quick-open copies not written: %s", exc.strerror)

    def close(self) -> None:
        """At the server's stop: copy the newest minute's words too (see the module's doc)."""
        self._save(everything=True)
