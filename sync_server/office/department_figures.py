"""Figures per lead department (承办单位) and per town for one period: the 考核 of the
monthly report, the weekly pack and the office's /office/ratings page.

Pure: report rows (their triage entries and histories) in, a `Figures` of tallies out.
Each matter's history is read once. The department that holds a matter at any moment
is found by walking its history back from the entry as it is now: every step keeps in
`before` the fields it changed (department, deadline, sign_due), so the fields before
each step are known, whatever 改派 or 撤回 happened later. A step that was undone (an
`undo` step names it in `undid`) counts for nothing, and neither does the undo itself;
the state it restored still counts (it is read from the steps' `before`).

Which matters count in which period (`Period`: its first day, and `as_of`, the last day
counted: the period's last day, or today in a running one; nothing after the end of
`as_of`, nor after `now`, is counted, so a past month's figures do not move later):
- by handover time (交办 or 改派 to the department inside the period): 交办数, 及时签收率
  and 办结率 (closed by the same department by the cut-off);
- by the time of the step: 按期办结率 (closings inside the period), 退回, 延期, 满意率
  (follow-up verdicts inside the period);
- by state: 超期 at the cut-off (期末超期), and 超期 on any day of the period (期内超期).
Definitions in Chinese, as the tables show them, are in `department_tables.DEFINITIONS`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from sync_server.office.records import CHINA, Row

__all__ = ["NO_DEPARTMENT", "NO_TOWN", "Figures", "Period", "Tally", "Verdicts", "figures", "office_verdicts",
           "period_figures"]

NO_DEPARTMENT = ""  # the key of matters with no lead department (old free text no department matched)
NO_TOWN = "（未知乡镇）"
HANDLING = ("assigned", "in_progress")  # as `triage.is_overdue`: a matter in review is the office's
HANDOVERS = ("assign", "reassign")
RESPONSES = ("sign", "start", "send_back")  # `start` is how older data signed
CLOSINGS = ("close", "approve")  # a merge is no closing: a duplicate merged away is no matter solved
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str  # "month" or "week"
    first: date
    last: date
    as_of: date  # the last day counted

    @classmethod
    def month(cls, year: int, month: int, today: date) -> Period:
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - _DAY
        return cls("month", first, last, min(last, today))

    @classmethod
    def week(cls, day: date, today: date) -> Period:
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
        return cls("week", first, last, min(last, today))

    def previous(self) -> Period:
        """The period before, counted to its own end (it is over)."""
        if self.kind == "week":
            return Period("week", self.first - 7 * _DAY, self.first - _DAY, self.first - _DAY)
        last = self.first - _DAY
        return Period("month", last.replace(day=1), last, last)


@dataclass(slots=True)
class Tally:
    """Counts of one department or town in one period; rates are None without a base."""

    dispatched: int = 0  # 交办数: handovers (交办, 改派) to it in the period
    sign_judged: int = 0  # of those, answered (签收 or 退回) or past their sign_due by the cut-off
    signed_on_time: int = 0  # answered by sign_due
    handled: int = 0  # handovers in the period not moved away (改派, 合并) by the cut-off
    handled_closed: int = 0  # of those, closed by the department that held it, by the cut-off
    closed: int = 0  # closings (办结, 审核办结) in the period
    closed_with_deadline: int = 0
    closed_on_time: int = 0  # on or before the deadline in force at closing
    returned: int = 0  # 退回 in the period
    extension_asked: int = 0
    extension_granted: int = 0
    overdue_now: int = 0  # matters overdue at the cut-off
    overdue_ever: int = 0  # matters overdue on some day of the period
    verdicts: int = 0  # follow-up verdicts in the period
    satisfied: int = 0  # 满意 or 基本满意

    @property
    def sign_rate(self) -> float | None:
        return _rate(self.signed_on_time, self.sign_judged)

    @property
    def close_rate(self) -> float | None:
        return _rate(self.handled_closed, self.handled)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.closed_on_time, self.closed_with_deadline)

    @property
    def satisfaction(self) -> float | None:
        return _rate(self.satisfied, self.verdicts)

    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    period: Period
    departments: dict[str, Tally] = field(default_factory=dict)  # department id -> tally
    towns: dict[str, Tally] = field(default_factory=dict)


# A source of verdicts on a matter: (when, satisfied?) pairs, each counted for the
# department holding the matter at that moment. The office's follow-ups are read from
# the history itself; issue 22 (citizens' own verdicts) passes its source to `figures`.
Verdicts = Callable[[Row], Iterable[tuple[datetime, bool]]]


def office_verdicts(step) -> bool | None:
    """A follow-up's verdict: 满意 and 基本满意 close the matter (回访 to 已回访), 不满意
    reopens it (to 办理中), so the step's `to` says it even in the oldest data."""
    if step.get("action") != "follow_up":
        return None
    return step.get("to") == "followed_up"


def _when(text) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


class _Tenure:
    """One handover: the department holding the matter from a 交办 or 改派 until the next
    handover, a 退回, a merge or a closing."""

    __slots__ = ("answered", "closed", "due", "ended", "inside", "moved", "unit")

    def __init__(self, unit: str, inside: bool, due: datetime | None) -> None:
        self.unit, self.inside, self.due = unit, inside, due
        self.answered: datetime | None = None
        self.ended: datetime | None = None
        self.closed = self.moved = False


def figures(rows: Iterable[Row], registry, period: Period, now: datetime,
            verdicts: Iterable[Verdicts] = ()) -> Figures:
    """The period's tallies by department id and by town. `rows` may hold any superset of
    the matters that count (a report's rows: changed since the period's start, and the
    overdue ones); each record counts once."""
    towns = {s.id: s.town for s in registry.stations}
    by_name = {d.name: d.id for d in getattr(registry, "departments", ())}
    start = datetime.combine(period.first, time(), CHINA)
    cut = min(datetime.combine(period.as_of + _DAY, time(), CHINA), now)
    result = Figures(period, defaultdict(Tally), defaultdict(Tally))
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        town = towns.get(row.record.get("station_id"), "") or NO_TOWN
        _count(row, town, by_name, period, start, cut, result, verdicts)
    result.departments, result.towns = dict(result.departments), dict(result.towns)
    return result


def period_figures(readside, registry, period: Period, today: date, now: datetime,
                   verdicts: Iterable[Verdicts] = ()) -> tuple[Figures, Figures]:
    """The period's figures and the previous period's, from one `ReadSide.report_sets` over
    both: every record seen in the report rows is read once for each. Its rows changed
    since the previous period's start, and those overdue today, are every matter that can
    count: one untouched since is in the same state now, so overdue now if it was then."""
    before = period.previous()
    sets = readside.report_sets(None, before.first, period.last, registry, today)
    rows = sets.changed + sets.overdue
    return figures(rows, registry, period, now, verdicts), figures(rows, registry, before, now, verdicts)


def _states(entry, steps, by_name: dict[str, str]) -> list[tuple]:
    """(department, deadline, sign_due, status) after each step, index k for the state
    before step k (the last is the entry now), read back through each step's `before`."""
    department = entry.get("department") or by_name.get(entry.get("lead") or "", NO_DEPARTMENT)
    state = (department, entry.get("deadline"), entry.get("sign_due"), entry["status"])
    states = [state] * (len(steps) + 1)
    for k in range(len(steps) - 1, -1, -1):
        step = steps[k]
        department, deadline, sign_due, status = state
        before = step.get("before")
        if before:
            department = before.get("department", department) or NO_DEPARTMENT
            deadline = before.get("deadline", deadline)
            sign_due = before.get("sign_due", sign_due)
        state = states[k] = (department, deadline, sign_due, step.get("from") or status)
    return states


def _count(row: Row, town: str, by_name: dict[str, str], period: Period, start: datetime, cut: datetime,  # noqa: C901 - one branch per kind of step, read as a table
           result: Figures, sources: Iterable[Verdicts]) -> None:
    entry = row.triage
    steps = entry.get("history") or ()
    if not steps:
        return
    times = [_when(step.get("at")) for step in steps]
    if None in times:  # a step without a readable time: keep the readable ones, in order
        kept = [k for k, t in enumerate(times) if t is not None]
        steps, times = [steps[k] for k in kept], [times[k] for k in kept]
        if not steps:
            return
    if times[-1] < start and entry["status"] not in HANDLING:
        return  # nothing happened in the period, and nothing can be overdue in it
    states = _states(entry, steps, by_name)
    undone = {s.get("undid") for s in steps if s.get("action") == "undo"}
    departments, towns = result.departments, result.towns
    here = towns[town]

    def both(unit: str) -> tuple[Tally, Tally]:
        return departments[unit], here

    tenures: list[_Tenure] = []
    tenure: _Tenure | None = None
    for k, step in enumerate(steps):
        moment = times[k]
        if moment >= cut:
            break
        action = step.get("action")
        if action == "undo" or k in undone:
            continue
        inside = moment >= start
        holder = states[k][0]
        if action in HANDOVERS:
            if tenure is not None and tenure.ended is None:
                tenure.ended, tenure.moved = moment, True
            unit = states[k + 1][0]
            tenure = _Tenure(unit, inside, _when(states[k + 1][2]))
            tenures.append(tenure)
            if inside:
                for tally in both(unit):
                    tally.dispatched += 1
            continue
        if action in RESPONSES and tenure is not None and tenure.ended is None and tenure.answered is None:
            tenure.answered = moment
        if action == "send_back":
            if tenure is not None and tenure.ended is None:
                tenure.ended = moment
            if inside:
                for tally in both(holder):
                    tally.returned += 1
        elif action in CLOSINGS:
            if tenure is not None and tenure.ended is None:
                tenure.ended, tenure.closed = moment, True
            if inside:
                deadline = states[k][1]
                day = moment.astimezone(CHINA).date().isoformat()
                for tally in both(holder):
                    tally.closed += 1
                    if deadline:
                        tally.closed_with_deadline += 1
                        tally.closed_on_time += day <= deadline
        elif action == "merge":
            if tenure is not None and tenure.ended is None:
                tenure.ended, tenure.moved = moment, True
        elif inside and action == "ask_extension":
            for tally in both(holder):
                tally.extension_asked += 1
        elif inside and action == "grant_extension":
            for tally in both(holder):
                tally.extension_granted += 1
        elif inside and (verdict := office_verdicts(step)) is not None:
            for tally in both(holder):
                tally.verdicts += 1
                tally.satisfied += verdict
    for source in sources:
        for moment, satisfied in source(row):
            if start <= moment < cut:
                holder = states[bisect.bisect_right(times, moment)][0]
                for tally in both(holder):
                    tally.verdicts += 1
                    tally.satisfied += satisfied
    for tenure in tenures:
        if tenure.inside:
            _judge(tenure, cut, both(tenure.unit))
    _overdue(steps, times, states, period, cut, both)


def _judge(tenure: _Tenure, cut: datetime, tallies: tuple[Tally, Tally]) -> None:
    """签收 and 办结 of one handover made in the period."""
    due, answered = tenure.due, tenure.answered
    # Judged once answered, or once its time ran out while the department still held it;
    # a handover without sign_due (older data) is not judged for 签收.
    judged = due is not None and (answered is not None or due < min(tenure.ended or cut, cut))
    for tally in tallies:
        if judged:
            tally.sign_judged += 1
            tally.signed_on_time += answered is not None and answered <= due
        if not tenure.moved:
            tally.handled += 1
            tally.handled_closed += tenure.closed


def _overdue(steps, times, states, period: Period, cut: datetime, both) -> None:
    """期内超期 (on some day of the period) and 期末超期 (at the cut-off), once a matter."""
    first, as_of = period.first, period.as_of
    ever: set[str] = set()
    now: set[str] = set()
    days = [t.astimezone(CHINA).date() for t in times]
    last = len(steps) - 1
    for k in range(len(steps)):
        if times[k] >= cut:
            break
        department, deadline, _, status = states[k + 1]
        if status not in HANDLING or not deadline:
            continue
        ends = k == last or times[k + 1] >= cut
        # The state held from this step's day to the next step's day (both in part).
        low, high = max(days[k], first), min(as_of if ends else days[k + 1], as_of)
        if low <= high and deadline < high.isoformat():
            ever.add(department)
            if ends:
                now.add(department)
    for unit in ever:
        departments_tally = both(unit)[0]
        departments_tally.overdue_ever += 1
        departments_tally.overdue_now += unit in now
    if ever:
        town = both(next(iter(ever)))[1]
        town.overdue_ever += 1
        town.overdue_now += bool(now)
