"""What the department figures are counted over and into: the `Period` (a month or a
week, and the last day counted), a department's or a town's `Tally` of one period with
its rates, and the `Figures` of a period. Plain data; the counting is `department_figures`'s."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta

__all__ = ["Counted", "Figures", "Period", "Tally", "rate"]

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


class Counted:
    """A tally of counts only: it is worth a row when any count is not zero."""

    __slots__ = ()

    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(slots=True)
class Tally(Counted):
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
    verdicts: int = 0  # matters whose latest verdict (receipt or phone) was given in the period
    satisfied: int = 0  # 满意 or 基本满意

    @property
    def sign_rate(self) -> float | None:
        return rate(self.signed_on_time, self.sign_judged)

    @property
    def close_rate(self) -> float | None:
        return rate(self.handled_closed, self.handled)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.closed_on_time, self.closed_with_deadline)

    @property
    def satisfaction(self) -> float | None:
        return rate(self.satisfied, self.verdicts)


def rate(part: int, whole: int) -> float | None:
    """A share, or None when there is nothing to share (a table shows "—", never 0%)."""
    return part / whole if whole else None



@dataclass
class Figures:
    period: Period
    departments: dict[str, Tally] = field(default_factory=dict)  # department id -> tally
    towns: dict[str, Tally] = field(default_factory=dict)
