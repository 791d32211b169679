"""The figures of 群众说了算 (issue 22): 办结率, 回访率, 满意率, 不满意 and 重新办理, by post,
sector, lead department and town, for a week, a month or since the start.

Pure: matters (`Matter`: a record's post, its local day of arrival and its triage entry)
in, tallies out. The matters counted in a period are those received in it (a cohort),
each in the state it is in now, so a matter counts once whatever happened to it: a
matter judged in two rounds counts its latest verdict only, whatever its source (the
citizen's receipt or a phone 回访). Definitions as the tables show them: `DEFINITIONS`.

- 办结率 = closed (已办结 or 已回访) ÷ accepted (受理: neither still 已收到 nor 不予受理);
- 回访率 = closed matters with a verdict or a phone call (未接通 included) ÷ closed;
- 满意率 = matters whose latest verdict is 满意 or 基本满意 ÷ matters with a verdict
  (a 不予受理 with a public reply may be judged: its verdict counts here);
- 不满意 = matters whose latest verdict is 不满意; 重新办理 = matters in round 2 or later.
A duplicate merged into another matter (outcome `merged`) counts for nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, NamedTuple

from sync_server.office.department_tally import Counted, rate
from sync_server.office.records import CHINA

__all__ = ["DEFINITIONS", "DIMENSIONS", "Board", "Matter", "Span", "VerdictTally", "count", "count_with_series", "is_satisfied",
           "latest_verdict", "monthly_series", "verdict_moments"]

SOLVED = ("closed", "followed_up")
SATISFIED = ("satisfied", "fair")  # 满意 and 基本满意: the 12345 definition
NOT_ACCEPTED = ("received", "declined")
NO_DEPARTMENT_NAME = "（未定牵头部门）"
NO_TOWN = "（未知乡镇）"
# The groupings each figure is given by, in the order the tables come: (key, heading).
DIMENSIONS = (("station", "民情哨"), ("sector", "领域"), ("department", "牵头部门"), ("town", "乡镇"))
DEFINITIONS = (
    "统计对象：本期收到的事项（合并的重复反映除外），各项按截至统计时的状态计算，一件事项只计一次。",
    "办结率 = 已办结（含已回访）事项 ÷ 已受理事项（不含尚未受理和不予受理的事项）。",
    "回访率 = 已办结事项中有群众评价或有电话回访记录（含未接通）的事项 ÷ 已办结事项。",
    "满意率 = 最近一次评价为“满意”或“基本满意”的事项 ÷ 有评价的事项；评价来源包括群众凭回执评价和电话回访，"
    "重新办理过的事项只计最近一次评价。",
    "不满意：最近一次评价为“不满意”的事项数。重新办理：经重新办理（第二轮及以后）的事项数。",
)


class Matter(NamedTuple):
    """One matter as the figures read it."""

    station_id: str
    day: str  # the local day it was received, YYYY-MM-DD
    entry: Mapping[str, Any]  # its triage entry


@dataclass(frozen=True)
class Span:
    """The days whose matters count: a week, a month, or since the start (`first` None)."""

    kind: str  # "week", "month" or "all"
    first: date | None
    last: date

    @property
    def word(self) -> str:
        return {"week": "本周", "month": "本月", "all": "累计"}[self.kind]

    def holds(self, day: str) -> bool:
        return (self.first is None or self.first.isoformat() <= day) and day <= self.last.isoformat()


@dataclass(slots=True)
class VerdictTally(Counted):
    """Counts of one post, sector, department or town; rates are None without a base."""

    accepted: int = 0
    closed: int = 0
    visited: int = 0  # closed, with a verdict or a call
    verdicts: int = 0  # matters with a latest verdict
    satisfied: int = 0  # of those, 满意 or 基本满意
    dissatisfied: int = 0
    reopened: int = 0

    @property
    def close_rate(self) -> float | None:
        return rate(self.closed, self.accepted)

    @property
    def visit_rate(self) -> float | None:
        return rate(self.visited, self.closed)

    @property
    def satisfaction(self) -> float | None:
        return rate(self.satisfied, self.verdicts)


@dataclass
class Board:
    """One span's tallies: the whole district, and each grouping by its display name."""

    span: Span
    total: VerdictTally = field(default_factory=VerdictTally)
    groups: dict[str, dict[str, VerdictTally]] = field(default_factory=dict)


def latest_verdict(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The matter's latest verdict of any round, or None. An entry written before
    verdicts existed keeps its 回访 result in `satisfaction_after` only: read as a call's."""
    verdict = entry.get("verdict")
    if verdict:
        return verdict
    past = entry.get("past_verdicts") or ()
    if past:
        return past[-1]
    old = entry.get("satisfaction_after")
    if old:
        return {"choice": old, "source": "phone", "at": _last_follow_up(entry)}
    return None


def _last_follow_up(entry: Mapping[str, Any]) -> str | None:
    for step in reversed(entry.get("history") or ()):
        if step.get("action") == "follow_up":
            return step.get("at")
    return entry.get("updated_at")


def is_satisfied(verdict: Mapping[str, Any]) -> bool:
    return verdict.get("choice") in SATISFIED


def _called(entry: Mapping[str, Any]) -> bool:
    """A phone 回访 was recorded, answered or not (older data: its follow-up steps)."""
    if entry.get("calls"):
        return True
    return "calls" not in entry and any(step.get("action") == "follow_up" for step in entry.get("history") or ())


def verdict_moments(entry: Mapping[str, Any]) -> list[tuple[datetime, bool]]:
    """Every verdict given on the matter, by receipt or by phone, as (when, satisfied?) in
    the order given (a 未接通 call is none). The 考核 (`department_figures`' `verdicts=`
    seam) counts, in a period, the latest of these before its cut-off when it was given
    inside the period: a matter once, and a past period never moves. Steps of the oldest
    data carry no choice: their `to` says it (满意 and 基本满意 moved to 已回访)."""
    moments = []
    for step in entry.get("history") or ():
        action = step.get("action")
        if action not in ("verdict", "follow_up") or step.get("choice") == "no_answer":
            continue
        moment = _moment(step.get("at"))
        if moment is None:
            continue
        choice = step.get("choice")
        moments.append((moment, choice in SATISFIED if choice else step.get("to") == "followed_up"))
    return moments


def _moment(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _one(entry: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The matter's own counts in `VerdictTally`'s field order (each 0 or 1), or None
    when it counts for nothing (a duplicate merged away, a matter not yet accepted).
    About 50,000 entries a build, each a compact read-only form whose every lookup is
    a call: each field is read once."""
    get = entry.get
    if get("outcome") == "merged":
        return None
    status = get("status")
    closed = status in SOLVED
    verdict = latest_verdict(entry)
    judged = verdict is not None
    choice = verdict.get("choice") if judged else None
    own = (int(status not in NOT_ACCEPTED), int(closed), int(closed and (judged or _called(entry))), int(judged),
           int(choice in SATISFIED), int(choice == "dissatisfied"), int((get("round") or 1) > 1))
    return own if any(own) else None


def _tally(counts: Iterable[tuple[tuple[int, ...], int]]) -> VerdictTally:
    sums = [0] * len(_FIELDS)
    for own, times in counts:
        for k, value in enumerate(own):
            sums[k] += value * times
    return VerdictTally(*sums)


_FIELDS = tuple(f.name for f in fields(VerdictTally))


def _keys(station_id: str, entry: Mapping[str, Any], registry, departments: dict[str, str]) -> dict[str, str]:
    station = registry.station(station_id)
    return {"station": station.name if station else station_id,
            "sector": registry.sector(station.sector).name if station else "",
            "department": departments.get(_department_id(entry, departments), NO_DEPARTMENT_NAME),
            "town": (station.town if station else "") or NO_TOWN}


def _department_id(entry: Mapping[str, Any], departments: dict[str, str]) -> str:
    """The lead unit's id now, as the 考核 finds it (`department_figures._department`):
    an entry never dispatched names its lead by name only."""
    if entry.get("department") or entry.get("dispatched_at"):
        return entry.get("department") or ""
    lead = entry.get("lead") or ""
    return next((i for i, name in departments.items() if name == lead), "")


def count(matters: Iterable[Matter], registry, spans: list[Span]) -> list[Board]:
    """Each span's board, every matter read once for all of them."""
    return count_with_series(matters, registry, spans, [])[0]


def count_with_series(matters: Iterable[Matter], registry, spans: list[Span],
                      months: list[str]) -> tuple[list[Board], list[tuple[str, VerdictTally]]]:
    """Each span's board and the district's tally of each month's matters (YYYY-MM, for
    the chart), from one read of every matter. 100,000 matters fall into a few thousand
    kinds (post, lead, spans, own counts): those are counted first, and only they are
    added into the tallies."""
    departments = {d.id: d.name for d in getattr(registry, "departments", ())}
    bounds = [(s.first.isoformat() if s.first else "", s.last.isoformat()) for s in spans]
    wanted = set(months)
    kinds: Counter = Counter()
    by_month: Counter = Counter()
    for station_id, day, entry in matters:
        inside = tuple(k for k, (low, high) in enumerate(bounds) if low <= day <= high)
        month = day[:7] if day[:7] in wanted else None
        if not inside and month is None:
            continue
        own = _one(entry)
        if own is None:
            continue
        if month is not None:
            by_month[month, own] += 1
        if inside:
            marker = (station_id, entry.get("department") or "", bool(entry.get("dispatched_at")), entry.get("lead") or "")
            kinds[marker, inside, own] += 1
    return _boards(kinds, spans, registry, departments), _series(by_month, months)


def _boards(kinds: Counter, spans: list[Span], registry, departments: dict[str, str]) -> list[Board]:
    per_span: list[dict[tuple, list]] = [defaultdict(list) for _ in spans]
    names: dict[tuple, dict[str, str]] = {}
    for (marker, inside, own), times in kinds.items():
        keys = names.get(marker)
        if keys is None:
            station_id, department, dispatched, lead = marker
            keys = names[marker] = _keys(station_id, {"department": department, "dispatched_at": dispatched,
                                                      "lead": lead}, registry, departments)
        for k in inside:
            per_span[k][("", "")].append((own, times))
            for key, _ in DIMENSIONS:
                per_span[k][(key, keys[key])].append((own, times))
    boards = []
    for span, grouped in zip(spans, per_span, strict=True):
        groups: dict[str, dict[str, VerdictTally]] = {key: {} for key, _ in DIMENSIONS}
        total = VerdictTally()
        for (key, name), counts in grouped.items():
            if key:
                groups[key][name] = _tally(counts)
            else:
                total = _tally(counts)
        boards.append(Board(span, total, groups))
    return boards


def _series(by_month: Counter, months: list[str]) -> list[tuple[str, VerdictTally]]:
    grouped: dict[str, list] = defaultdict(list)
    for (month, own), times in by_month.items():
        grouped[month].append((own, times))
    return [(month, _tally(grouped.get(month, ()))) for month in months]


def monthly_series(matters: Iterable[Matter], months: list[str]) -> list[tuple[str, VerdictTally]]:
    """The whole district's tally of each month's matters (YYYY-MM), for the chart."""
    return count_with_series(matters, None, [], months)[1]
