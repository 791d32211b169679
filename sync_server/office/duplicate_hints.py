"""可能重复: records that may say the same thing as one record, for staff to merge.

A candidate is a record of the same post (民情哨) or the same sector received within
WINDOW_DAYS days before or after the record (the caller narrows to those, and to what
the account may read). Its words are compared with the record's this way:

1. normalise: NFKC (full-width letters, digits and punctuation become their half-width
   forms), case folded, then everything that is no letter or digit (punctuation,
   symbols, spaces, controls) removed, so "校门口　拥堵！" and "校门口拥堵" are the same words;
2. cut into character bigrams (each pair of neighbouring characters; Chinese has no
   spaces, and pairs catch most of a phrase without a dictionary), kept as a set;
3. the Dice coefficient of the two sets, 2·|A∩B| / (|A| + |B|), between 0 and 1.

A candidate scoring THRESHOLD or more is suggested, best first, the same post before
the same sector at equal scores, LIMIT at most. Pure: rows and words in, hints out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sync_server.office.records import Row
from sync_server.triage import TriageError, check_merge_target

__all__ = ["EXPLANATION", "LIMIT", "THRESHOLD", "WINDOW_DAYS", "Hint", "bigrams", "normalise", "similarity", "suggest",
           "window"]

# A citizen who was not answered tends to come back within days, and the weekly meeting
# reads a week at a time: a week either side covers both. Wider windows mostly add
# records about the same place that are not the same matter.
WINDOW_DAYS = 7
# Identical words score 1; a sentence with a few words added still scores above 0.8.
# Two records about one spot saying different things ("校门口拥堵" and "校门口卖过期
# 食品") share a bigram or two and score under 0.4. 0.6 keeps the first, not the second.
THRESHOLD = 0.6
LIMIT = 5
# What the record's page says, in one sentence, about how the suggestions are found.
EXPLANATION = (f"系统把本条与同一民情哨或同一领域、前后 {WINDOW_DAYS} 天内收到、您有权查看的记录逐条比较："
               "先统一全角半角和大小写、去掉标点和空格，再按相邻两个字的组合计算重合程度（Dice 系数），"
               f"达到 {THRESHOLD:.0%} 的列为可能重复。")

_NOT_WORDS = re.compile(r"[\W_]+")  # one regex pass at C speed: no letter or digit


@dataclass(frozen=True)
class Hint:
    row: Row
    words: str  # as compared: what this session may read of the other record
    score: float
    same_station: bool

    @property
    def percent(self) -> str:
        return f"{self.score:.0%}"

    @property
    def merge_target(self) -> bool:
        """Whether the record could take a merge now (see `triage.check_merge_target`)."""
        try:
            check_merge_target(self.row.triage)
        except TriageError:
            return False
        return True


def normalise(text: str) -> str:
    return _NOT_WORDS.sub("", unicodedata.normalize("NFKC", text).casefold())


def bigrams(text: str) -> frozenset[str]:
    """The set of neighbouring pairs of the normalised text; a single character is its own set."""
    clean = normalise(text)
    if len(clean) < 2:
        return frozenset((clean,)) if clean else frozenset()
    return frozenset(clean[n : n + 2] for n in range(len(clean) - 1))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def similarity(a: str, b: str) -> float:
    return _dice(bigrams(a), bigrams(b))


def window(day: date) -> tuple[date, date]:
    """The received days a candidate may have: WINDOW_DAYS before and after `day`."""
    return day - timedelta(days=WINDOW_DAYS), day + timedelta(days=WINDOW_DAYS)


def suggest(row: Row, words: str, candidates: Iterable[tuple[Row, str]]) -> list[Hint]:
    """The hints for `row` (its words `words`) among `candidates` (row, words): never the
    record itself, a record merged away already, or one already merged into it."""
    mine = bigrams(words)
    if not mine:
        return []
    skip = {row.id, *row.triage.get("merged", ()), row.triage.get("merged_into") or ""}
    station = row.record["station_id"]
    hints = []
    for other, text in candidates:
        if other.id in skip or other.triage.get("outcome") == "merged":
            continue
        score = _dice(mine, bigrams(text))
        if score >= THRESHOLD:
            hints.append(Hint(other, text, score, other.record["station_id"] == station))
    hints.sort(key=lambda h: (-h.score, not h.same_station, h.row.record["received_at"]))
    return hints[:LIMIT]
