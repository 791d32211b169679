"""The office's numbered letters on disk: an append-only log, `DATA_DIR/office/letters.log`.

Issuing a letter appends one line holding the whole letter and the number it takes, and
fsyncs it: the number and the letter are one write, so after a kill there is either a
letter with its number or neither. The highest number ever taken is what the log says,
never a counter kept apart from it (a counter written after the letter could be lost; one
written before could skip a number that a later start gives again). Every line carries
the high-water marks it knows (`taken`), so a compaction, which rewrites one line per
letter through the same atomic replace as every other file, keeps them too.

An answer or a withdrawal appends the letter again, whole: the last line of an id wins.
A torn last line (a kill mid-append) is ignored and cut off before the next append.
Other processes read the same log beside the writer, from where they stopped.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sync_server.store.embedded import tinystore
from sync_server.store.interfaces import StoreLocked

__all__ = ["IDENTITY", "LOG_NAME", "LetterBook"]

LOG_NAME = "letters.log"
# Fields the book sets at issue and nobody changes after.
IDENTITY = ("id", "kind", "year", "n", "number")
_KIND = re.compile(r"[a-z][a-z_]{0,31}\Z", re.ASCII)
# Compact once the log holds this many more lines than letters.
COMPACT_SLACK = 500


def _series(kind: str, year: int) -> str:
    return f"{kind}-{year}"


class LetterBook:
    """Letters by id, numbered per kind and year (see `interfaces.Letters`)."""

    def __init__(self, data_dir: str | Path, *, writer: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.folder = self.data_dir / "office"
        self.log = tinystore.AppendLog(self.folder / LOG_NAME)
        self.problems: list[str] = []
        self.writer = writer
        self._letters: dict[str, dict[str, Any]] = {}
        self._taken: dict[str, int] = {}
        self._lines = 0
        self._offset = 0
        self._stamp: tuple[int, int] | None = None
        self._damaged = False
        self._lock = threading.Lock()
        if writer:
            tinystore.private_dir(self.folder)

    # -- reading ---------------------------------------------------------------------

    def _load(self) -> None:
        if self.log.stamp() == self._stamp:
            return
        with self._lock:
            self._read_new()

    def _read_new(self) -> None:
        stamp = self.log.stamp()
        if stamp == self._stamp:
            return
        if stamp is None or self._stamp is None or stamp[0] != self._stamp[0] or stamp[1] < self._offset:
            self._letters, self._taken, self._lines, self._offset = {}, {}, 0, 0  # new or compacted
        lines, self._offset, bad = self.log.read(self._offset)
        for line in lines:
            if not self._take(line):
                bad += 1
        self._stamp = self.log.stamp()
        if bad:
            self._damaged = True
            problem = f"office/{LOG_NAME} is damaged ({bad} unreadable lines, left out; the rest is served)"
            if self.writer:
                kept = tinystore.quarantine(self.log.path, self.data_dir, move=False)
                problem += f"; a copy is in {kept.relative_to(self.data_dir)}"
            if problem not in self.problems:
                self.problems.append(problem)

    def _take(self, line: Any) -> bool:
        """Fold one log line in; False when it cannot be used."""
        if not isinstance(line, dict):
            return False
        taken = line.get("taken", {})
        letter = line.get("put")
        if not isinstance(taken, dict) or not all(isinstance(v, int) for v in taken.values()):
            return False
        if letter is not None and not _sound(letter):
            return False
        # A line's marks count even when its letter is later damaged: a number once
        # taken is never given again.
        for series, n in taken.items():
            self._taken[series] = max(self._taken.get(series, 0), n)
        if letter is not None:
            series = _series(letter["kind"], letter["year"])
            self._taken[series] = max(self._taken.get(series, 0), letter["n"])
            self._letters[letter["id"]] = letter  # the last line of an id wins
        self._lines += 1
        return True

    def __len__(self) -> int:
        self._load()
        return len(self._letters)

    def get(self, letter_id: str) -> dict[str, Any] | None:
        self._load()
        found = self._letters.get(letter_id)
        return copy.deepcopy(found) if found is not None else None

    def all(self) -> list[dict[str, Any]]:
        self._load()
        return sorted((copy.deepcopy(v) for v in self._letters.values()), key=lambda v: v["seq"])

    def next_number(self, kind: str, year: int) -> int:
        self._load()
        return self._taken.get(_series(kind, year), 0) + 1

    # -- writing ---------------------------------------------------------------------

    def issue(self, kind: str, year: int, fields: Mapping[str, Any], label: Callable[[int], str]) -> dict[str, Any]:
        self._writable()
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise ValueError(f"a letter kind is a short lower-case word, not {kind!r}")
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            raise ValueError(f"a letter's year is between 2000 and 2100, not {year!r}")
        with self._lock:
            self._read_new()
            if self._damaged:
                self._compact()
            series = _series(kind, year)
            n = self._taken.get(series, 0) + 1
            seq = max((v["seq"] for v in self._letters.values()), default=0) + 1
            letter = {**copy.deepcopy(dict(fields)), "id": f"{kind}-{year}-{n}", "kind": kind, "year": year, "n": n,
                      "number": str(label(n)), "seq": seq}
            self.log.append({"put": letter, "taken": {**self._taken, series: n}})
            self._settle(letter)
            self._taken[series] = n
        return copy.deepcopy(letter)

    def update(self, letter_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        self._writable()
        if any(key in changes for key in (*IDENTITY, "seq")):
            raise ValueError(f"a letter's {', '.join(IDENTITY)} never change")
        with self._lock:
            self._read_new()
            if self._damaged:
                self._compact()
            if letter_id not in self._letters:
                raise KeyError(letter_id)
            letter = {**copy.deepcopy(self._letters[letter_id]), **copy.deepcopy(dict(changes))}
            self.log.append({"put": letter, "taken": dict(self._taken)})
            self._settle(letter)
        return copy.deepcopy(letter)

    def _settle(self, letter: dict[str, Any]) -> None:
        self._letters[letter["id"]] = letter
        self._lines += 1
        self._stamp = self.log.stamp()
        self._offset = self._stamp[1] if self._stamp else 0
        if self._lines > len(self._letters) + COMPACT_SLACK:
            self._compact()

    def compact(self) -> None:
        """Rewrite the log with one line per letter (atomic): the same letters and marks."""
        self._writable()
        with self._lock:
            self._read_new()
            self._compact()

    def _compact(self) -> None:
        letters = sorted(self._letters.values(), key=lambda v: v["seq"])
        lines = [{"taken": dict(self._taken)}] + [{"put": letter} for letter in letters]
        self.log.rewrite(lines)
        self._lines, self._damaged = len(lines), False
        self._stamp = self.log.stamp()
        self._offset = self._stamp[1] if self._stamp else 0

    def _writable(self) -> None:
        if not self.writer:
            raise StoreLocked("these letters were opened read-only, or their store was closed")

    def close(self) -> None:
        self.writer = False


def _sound(letter: Any) -> bool:
    return (isinstance(letter, dict) and isinstance(letter.get("id"), str) and isinstance(letter.get("kind"), str)
            and isinstance(letter.get("year"), int) and isinstance(letter.get("n"), int)
            and isinstance(letter.get("number"), str) and isinstance(letter.get("seq"), int))
