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
from datetime import date, datetime, time, timedelta

from sync_server.office.department_tally import Figures, Period, Tally
from sync_server.office.records import CHINA, Row
from sync_server.office.verdict_figures import verdict_moments

__all__ = ["NO_DEPARTMENT", "NO_TOWN", "Figures", "Period", "Tally", "Verdicts", "figures", "figures_of",
           "office_verdicts", "period_figures", "period_figures_alone"]

NO_DEPARTMENT = ""  # the key of matters with no lead department (old free text no department matched)
NO_TOWN = "（未知乡镇）"
HANDLING = ("assigned", "in_progress")  # as `triage.is_overdue`: a matter in review is the office's
HANDOVERS = ("assign", "reassign")
RESPONSES = ("sign", "start", "send_back")  # `start` is how older data signed
CLOSINGS = ("close", "approve")  # a merge is no closing: a duplicate merged away is no matter solved
_DAY = timedelta(days=1)


# A source of verdicts on a matter: (when, satisfied?) pairs. In a period, the latest
# pair before its cut-off counts when it falls inside the period, for the department
# holding the matter at that moment: a matter counts once, and a past period never
# moves. By default every verdict given by receipt or by phone
# (`verdict_figures.verdict_moments`): 满意率 is (满意 + 基本满意) ÷ verdicts, as on the
# 成效 page.
Verdicts = Callable[[Row], Iterable[tuple[datetime, bool]]]


def latest_verdicts(row: Row) -> list[tuple[datetime, bool]]:
    return verdict_moments(row.triage)


LATEST = (latest_verdicts,)


def office_verdicts(step) -> bool | None:
    """A follow-up's verdict as the oldest data said it: 满意 and 基本满意 close the matter
    (回访 to 已回访). No longer counted by the figures (a 未接通 call moves nothing, and a
    matter counts once by its latest verdict); kept for callers reading old histories."""
    if step.get("action") != "follow_up":
        return None
    choice = step.get("choice")
    if choice is not None:  # a call of this version says what was heard, 未接通 included
        return None if choice == "no_answer" else choice != "dissatisfied"
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
            verdicts: Iterable[Verdicts] = LATEST) -> Figures:
    """The period's tallies by department id and by town. `rows` may hold any superset of
    the matters that count (a report's rows: changed since the period's start, and the
    overdue ones); each record counts once."""
    return figures_of(rows, registry, [period], now, verdicts)[0]


def figures_of(rows: Iterable[Row], registry, periods: list[Period], now: datetime,
               verdicts: Iterable[Verdicts] = LATEST) -> list[Figures]:
    """`figures` of several periods, each history read once for all of them."""
    towns = {s.id: s.town for s in registry.stations}
    by_name = {d.name: d.id for d in getattr(registry, "departments", ())}
    bounds = [(datetime.combine(p.first, time(), CHINA), min(datetime.combine(p.as_of + _DAY, time(), CHINA), now))
              for p in periods]
    earliest = min(start for start, _ in bounds)
    results = [Figures(p, defaultdict(Tally), defaultdict(Tally)) for p in periods]
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        matter = _Matter.read(row, earliest, by_name)
        if matter is None:
            continue
        town = towns.get(row.record.get("station_id"), "") or NO_TOWN
        for period, (start, cut), result in zip(periods, bounds, results, strict=True):
            if matter.still:
                _count_still(matter, row, town, period, start, cut, result, verdicts)
            elif matter.times[-1] >= start or matter.status in HANDLING:
                _count(matter, row, town, period, start, cut, result, verdicts)
    for result in results:
        result.departments, result.towns = dict(result.departments), dict(result.towns)
    return results


def period_figures(readside, registry, period: Period, today: date, now: datetime,
                   verdicts: Iterable[Verdicts] = LATEST) -> tuple[Figures, Figures]:
    """The period's figures and the previous period's, from one `ReadSide.report_sets`:
    its rows changed since the previous period's start, and those overdue today, are every
    matter that can count (one untouched since is in the same state now: overdue now if
    it was then). Records received are not needed: the set asked for covers one day."""
    before = period.previous()
    current, previous = figures_of(_rows_since(readside, registry, before.first, today), registry, [period, before],
                                   now, verdicts)
    return current, previous


def period_figures_alone(readside, registry, period: Period, today: date, now: datetime,
                         verdicts: Iterable[Verdicts] = LATEST) -> Figures:
    """The period's figures without the previous period's (the weekly pack ranks nothing)."""
    return figures_of(_rows_since(readside, registry, period.first, today), registry, [period], now, verdicts)[0]


def _rows_since(readside, registry, first: date, today: date) -> list[Row]:
    sets = readside.report_sets(None, first, first, registry, today)
    return sets.changed + sets.overdue


class _Matter:
    """One history as the figures read it: its steps' times, local days and actions, the
    state before each step, and the steps undone."""

    __slots__ = ("actions", "days", "now", "states", "status", "steps", "still", "times", "undone")

    @classmethod
    def read(cls, row: Row, earliest: datetime, by_name: dict[str, str]) -> _Matter | None:
        entry = row.triage
        status = entry["status"]
        # A step sets `updated_at` to its own time: the last step's time without the history.
        last = _when(entry.get("updated_at"))
        if last is not None and last < earliest and status not in HANDLING:
            return None  # nothing happened in any period, and nothing can be overdue in one
        steps = entry.get("history") or ()
        if not steps:
            return None
        matter = cls()
        matter.status, matter.still = status, last is not None and last < earliest
        if matter.still:
            # Untouched since before every period (most of the overdue): one state throughout.
            matter.now = (_department(entry, by_name), entry.get("deadline"))
            return matter
        times = [_when(step.get("at")) for step in steps]
        if None in times:  # a step without a readable time: keep the readable ones, in order
            kept = [k for k, t in enumerate(times) if t is not None]
            steps, times = [steps[k] for k in kept], [times[k] for k in kept]
            if not steps:
                return None
        matter.steps, matter.times = steps, times
        matter.days = [t.astimezone(CHINA).date() for t in times]
        matter.actions = [step.get("action") for step in steps]
        matter.undone = {step.get("undid") for step, action in zip(steps, matter.actions, strict=True) if action == "undo"}
        matter.states = _states(entry, steps, by_name)
        return matter


def _count_still(matter: _Matter, row: Row, town: str, period: Period, start: datetime, cut: datetime,
                 result: Figures, sources: Iterable[Verdicts]) -> None:
    """A matter in one state through the period: only overdue, and other verdicts."""
    department, deadline = matter.now
    tallies = result.departments[department], result.towns[town]
    for source in sources:
        if (latest := _latest(source(row), start, cut)) is not None:
            for tally in tallies:
                tally.verdicts += 1
                tally.satisfied += latest[1]
    if deadline and period.first <= period.as_of and deadline < period.as_of.isoformat():
        for tally in tallies:
            tally.overdue_ever += 1
            tally.overdue_now += 1


def _department(entry, by_name: dict[str, str]) -> str:
    """The lead unit's id now. An entry from before departments were real (never
    dispatched since: no `dispatched_at`) names its lead by name only; a matter sent back
    (退回) keeps the name but has no department."""
    if entry.get("department") or entry.get("dispatched_at"):
        return entry.get("department") or NO_DEPARTMENT
    return by_name.get(entry.get("lead") or "", NO_DEPARTMENT)


def _states(entry, steps, by_name: dict[str, str]) -> list[tuple]:
    """(department, deadline, sign_due, status) after each step, index k for the state
    before step k (the last is the entry now), read back through each step's `before`.
    An undo step keeps no `before`: it restored the undone step's own `before`, so the
    state before that step comes out right; only the minutes between the two read as
    the state restored, and the undone step counts for nothing anyway."""
    state = (_department(entry, by_name), entry.get("deadline"), entry.get("sign_due"), entry["status"])
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


def _count(matter: _Matter, row: Row, town: str, period: Period, start: datetime, cut: datetime,  # noqa: C901 - one branch per kind of step, read as a table
           result: Figures, sources: Iterable[Verdicts]) -> None:
    steps, times, states, undone = matter.steps, matter.times, matter.states, matter.undone
    departments, towns = result.departments, result.towns
    here = towns[town]

    def both(unit: str) -> tuple[Tally, Tally]:
        return departments[unit], here

    tenures: list[_Tenure] = []
    tenure: _Tenure | None = None
    for k in range(len(steps)):
        moment = times[k]
        if moment >= cut:
            break
        action = matter.actions[k]
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
                day = matter.days[k].isoformat()
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
    for source in sources:
        if (latest := _latest(source(row), start, cut)) is not None:
            holder = states[bisect.bisect_right(times, latest[0])][0]
            for tally in both(holder):
                tally.verdicts += 1
                tally.satisfied += latest[1]
    for tenure in tenures:
        if tenure.inside:
            _judge(tenure, cut, both(tenure.unit))
    _overdue(matter, period, cut, both)


def _latest(pairs: Iterable[tuple[datetime, bool]], start: datetime, cut: datetime) -> tuple[datetime, bool] | None:
    """The latest verdict before the cut-off, when it was given inside the period."""
    latest = None
    for pair in pairs:
        if pair[0] < cut and (latest is None or pair[0] >= latest[0]):
            latest = pair
    return latest if latest is not None and latest[0] >= start else None


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


def _overdue(matter: _Matter, period: Period, cut: datetime, both) -> None:
    """期内超期 (on some day of the period) and 期末超期 (at the cut-off), once a matter."""
    first, as_of = period.first, period.as_of
    times, states, days = matter.times, matter.states, matter.days
    ever: set[str] = set()
    now: set[str] = set()
    last = len(times) - 1
    for k in range(len(times)):
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
