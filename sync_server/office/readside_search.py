"""What the read side keeps of each record (`Summary`), and the search over its words.

The words are kept once, in search chunks of CHUNK records each: a chunk is one string
that one regex pass searches, and each summary points into it instead of holding its
own copy. A whole chunk never changes, so only the newest is rebuilt as records arrive.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter
from typing import Any

from sync_server.office.records import local_date

__all__ = ["CHUNK", "SUMMARY_KEY", "UNSEARCHABLE", "Summary", "WordSearch", "chunks_still_in_place", "summarise"]

SUMMARY_KEY = attrgetter("received_at", "order")  # Summary.key, at C speed
CHUNK = 1024  # records per search string: only the newest is rebuilt as records arrive
# In a search string each record ends with MARK and one character naming its place in
# the chunk (U+E000 + index, private use, so the string stays two bytes a character):
# one regex pass returns the places of every matching record, once each, at C speed.
# CUT parts the feeling from the suggestion and RECEIPT the words from the receipt.
MARK, SEP, PLACE, CUT, RECEIPT = "\x03", "\x00", 0xE000, "\x02", "\x01"
UNSEARCHABLE = re.compile(f"[\x00-\x03{chr(PLACE)}-{chr(PLACE + CHUNK - 1)}]")
_PLACES = [chr(PLACE + n) for n in range(CHUNK)]
RECENT_SEARCHES = 16  # queries whose places per chunk are kept (a few hundred KB each at most)


_DAYS: dict[tuple[str, bool], str] = {}


def _local_day(received_at: str) -> str:
    """The Beijing date of a receive time; the server's own UTC times take a fast path
    (a million `fromisoformat` calls would cost seconds at start)."""
    if received_at.endswith("+00:00") and len(received_at) >= 13 and received_at[11:13].isdigit():
        key = (received_at[:10], int(received_at[11:13]) >= 16)
        day = _DAYS.get(key)
        if day is None:
            day = _DAYS[key] = local_date(received_at).isoformat()
        return day
    return local_date(received_at).isoformat()


class Summary:
    """What the office lists of one record; the full record stays on disk.

    The words are kept once: here until the search chunk that holds them is built, then
    as the place of their text in that chunk (see `_build_chunk`)."""

    __slots__ = ("id", "received_at", "day", "station_id", "receipt", "rating", "words", "flags", "order", "rank",
                 "phone")

    def __init__(self, record: dict[str, Any], order: int) -> None:
        self.id: str = record["id"]
        self.received_at: str = record["received_at"]
        self.day: str = _local_day(record["received_at"])
        self.station_id: str = sys.intern(record["station_id"])
        self.receipt: str = record["receipt"]
        rating = record.get("rating")
        self.rating = sys.intern(rating) if isinstance(rating, str) else rating
        feeling, suggestion = record.get("feeling") or "", record.get("suggestion") or ""
        # (feeling, suggestion), or (a chunk's display string, where the text starts in it).
        self.words: tuple[str, str] | tuple[str, int] = (feeling, suggestion) if feeling or suggestion else _NO_WORDS
        self.flags: tuple[str, ...] = tuple(record.get("flags") or ())
        self.order = order
        # Whether a consented phone was stored (never the number): a report reads the
        # record from disk only then. A phone is only ever removed, so True means "maybe".
        self.phone = bool(record.get("consent") and record.get("phone"))
        self.rank = 0  # its place in the read side's ordered list (see `MemoryReadSide._renumber`)

    def key(self) -> tuple[str, int]:
        return (self.received_at, self.order)

    def texts(self) -> tuple[str, str]:
        """(feeling, suggestion)."""
        words = self.words  # one read: a chunk build may swap it meanwhile
        if type(words[1]) is int:
            display, start = words
            feeling, _, suggestion = display[start : display.index(RECEIPT, start)].partition(CUT)
            return feeling, suggestion
        return words  # type: ignore[return-value]

    def as_record(self) -> dict[str, Any]:
        feeling, suggestion = self.texts()
        return {"id": self.id, "received_at": self.received_at, "station_id": self.station_id,
                "receipt": self.receipt, "rating": self.rating, "feeling": feeling,
                "suggestion": suggestion, "flags": list(self.flags)}


_NO_WORDS = ("", "")  # sealed records keep their words sealed: shared, not one per record


def _build_chunk(part: list[Summary]) -> tuple[str, int, str]:
    """The search chunk of `part` (CHUNK records at most): (search string, records,
    display string). Each record is its feeling, CUT, its suggestion, RECEIPT, its
    receipt, MARK and its place (see MARK), then SEP. The display string keeps the
    words' case; the search string is its lower-case copy, the same object where
    lowering changes nothing (Chinese text). Each summary then points into the display
    string instead of holding its own copy of the words."""
    words = [summary.texts() for summary in part]
    receipts = [summary.receipt.lower() for summary in part]
    dirty = bool(UNSEARCHABLE.search("".join(chain.from_iterable(words))) or UNSEARCHABLE.search("".join(receipts)))
    pieces: list[str] = []
    starts: list[int | None] = []
    at = 0
    for (feeling, suggestion), receipt, place in zip(words, receipts, _PLACES, strict=False):
        kept = True
        if dirty:  # rare: only then clean each record's words (and keep its own copy)
            clean = (UNSEARCHABLE.sub("", feeling), UNSEARCHABLE.sub("", suggestion))
            kept = clean == (feeling, suggestion)
            feeling, suggestion, receipt = *clean, UNSEARCHABLE.sub("", receipt)
        starts.append(at if kept and (feeling or suggestion) else None)
        pieces += (feeling, CUT, suggestion, RECEIPT, receipt, MARK, place, SEP)
        at += len(feeling) + len(suggestion) + len(receipt) + 5
    display = "".join(pieces)
    search = display.lower()
    if search == display:
        search = display
    for summary, start in zip(part, starts, strict=True):
        if start is not None:
            summary.words = (display, start)
    return (search, len(part), display)


def summarise(records: Iterable[dict[str, Any]], pending: list[Summary], chunks: list[tuple[str, int, str]]) -> None:
    """Append each record's summary to `pending`, and each whole chunk of them to `chunks`
    as it fills: chunked as they come, in the order stored (the usual final order), so
    the words are never held twice for the whole inbox."""
    for record in records:
        pending.append(Summary(record, len(pending)))
        if len(pending) % CHUNK == 0:
            chunks.append(_build_chunk(pending[-CHUNK:]))


def chunks_still_in_place(chunks: list[tuple[str, int, str]], stored: list[Summary], ordered: list[Summary]) -> int:
    """How many of the chunks made from `stored` (see `summarise`) hold the same records
    as `ordered` at the same places: those are kept, the rest are made again."""
    kept = 0
    while kept < len(chunks) and ordered[kept * CHUNK : (kept + 1) * CHUNK] == stored[kept * CHUNK : (kept + 1) * CHUNK]:
        kept += 1
    return kept


class WordSearch:
    """The search chunks of the read side's ordered list, and the places recent queries
    found in them."""

    def __init__(self) -> None:
        self._chunks: list[tuple[str, int, str]] = []
        self._chunks_of: list[Summary] | None = None
        self._lock = threading.Lock()
        self._recent: dict[str, tuple[list[tuple[str, int, str]], list[list[int]]]] = {}

    def start(self, chunks: list[tuple[str, int, str]], items: list[Summary]) -> None:
        """Take the chunks made while loading, and make the rest now: the first search
        then costs no more than the next."""
        with self._lock:
            self._chunks, self._chunks_of = chunks, items
        self.chunked(items)

    def chunked(self, items: list[Summary]) -> list[tuple[str, int, str]]:
        """The search chunks of `items`, CHUNK records each (see `_build_chunk`)."""
        with self._lock:
            chunks = self._chunks if self._chunks_of is items else []
            # Whole chunks are kept; a chunk built while partial is rebuilt (records arrived).
            chunks = [chunk for chunk in chunks[: len(items) // CHUNK] if chunk[1] == CHUNK]
            for number in range(len(chunks), -(-len(items) // CHUNK)):
                chunks.append(_build_chunk(items[number * CHUNK : (number + 1) * CHUNK]))
            self._chunks, self._chunks_of = chunks, items
            return chunks

    def moved(self, before: list[Summary], after: list[Summary], start: int) -> None:
        """`after` replaces `before`, the same records up to `start`: the whole chunks
        before it are kept."""
        with self._lock:
            if self._chunks_of is before:
                self._chunks = [chunk for chunk in self._chunks[: start // CHUNK] if chunk[1] == CHUNK]
                self._chunks_of = after

    def ranks(self, items: list[Summary], q: str) -> list[int]:
        """Ranks (places in `items`) of the records whose text or receipt holds q, in
        order: one regex pass per chunk of records returns each matching record's place
        once (see MARK), instead of a Python step per record or per occurrence. A whole
        chunk never changes, so its places for a recent query are kept: the next page
        of a search, or a colleague's same search, reads only the newest chunk."""
        chunks = self.chunked(items)
        with self._lock:
            before = self._recent.pop(q, None)
        # The greedy tail runs to the record's end, so the next match starts in the next record.
        places = re.compile(re.escape(q) + "[^\x00]*\x03(.)", re.DOTALL).findall
        known = dict(zip(map(id, before[0]), before[1], strict=True)) if before else {}
        per_chunk: list[list[int]] = []
        for number, chunk in enumerate(chunks):
            found = known.get(id(chunk))
            if found is None:
                found = []
                if q in chunk[0]:  # str's own search first: most chunks of a rare word have no hit
                    base = number * CHUNK - PLACE
                    found = [base + ord(place) for place in places(chunk[0])]
            per_chunk.append(found)
        with self._lock:
            self._recent[q] = (chunks, per_chunk)  # the chunks themselves keep their ids true
            while len(self._recent) > RECENT_SEARCHES:
                self._recent.pop(next(iter(self._recent)))
        return [rank for found in per_chunk for rank in found]
