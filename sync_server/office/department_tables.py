"""The figures per department and town as report tables (`reports.Table`), each with
its definitions written under it, for the monthly report, the weekly pack and the
office's 考核 page.

Pure: `Figures` in, tables out. A department account reads its own line and the
ranking (`only`): never another department's line, nor the towns' (they mix every
department's matters).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.office.department_figures import NO_DEPARTMENT, Figures, Tally
from sync_server.office.department_ranking import WEIGHTS, Place, ranking
from sync_server.office.reports import Table
from sync_server.office.spreadsheet import Percent

__all__ = ["DEFINITIONS", "Change", "CountChange", "ScoreBar", "monthly_tables", "score_bars", "unit_name",
           "weekly_tables"]

NO_DEPARTMENT_NAME = "（未指定承办单位）"
COMMON = ("统计截止：本期最后一天 24 时，本期未结束时为当前时刻，之后的操作不计入本期。"
          "已撤回的操作不计入；改派后，每一步计入当时承办该事项的部门。")
DEFINITIONS = {
    "交办数": "交办数：本期内交办或改派给该单位的次数（同一事项退回后再次交办，计两次）。",
    "及时签收率": "及时签收率：本期交办的事项中，在签收时限内签收（或退回）的所占比例；尚未签收又未到签收时限的、"
                  "到时限前已被改派走的、没有签收时限的旧事项不计入。",
    "办结率": "办结率：本期交办的事项中，到统计截止时已由该单位办结（办结或审核办结）的所占比例；被改派走或合并的不计入。",
    "按期办结率": "按期办结率：本期内办结的事项中，办结日不晚于办结时有效的办理期限（含已同意的延期）的所占比例；"
                  "没有期限的旧事项不计入。合并重复反映不算办结。",
    "退回": "退回：本期内退回办公室的次数。",
    "延期": "申请延期、同意延期：本期内提出延期申请的次数，和办公室同意延期的次数。",
    "期末超期": "期末超期：统计截止时仍在该单位办理（已交办或办理中）且已过办理期限的事项数；待审核的事项不算。",
    "期内超期": "期内超期：本期内任何一天曾在该单位办理且已过办理期限的事项数，含之后办结或延期的。",
    "满意率": "满意率：本期内作出评价的事项中，最近一次评价为“满意”或“基本满意”的所占比例（群众凭回执评价和电话回访都计入，"
              "一件事项只计最近一次评价；未接通不算评价），计入评价时承办该事项的单位。",
}
METRICS = ["交办数", "及时签收率", "办结率", "按期办结率", "退回", "申请延期", "同意延期", "期末超期", "期内超期", "满意率"]
SCORE_RULE = ("综合得分（百分制）= 及时签收率×{sign_rate} + 办结率×{close_rate} + 按期办结率×{on_time_rate} + 满意率×{satisfaction}；"
              "某项本期没有可计算的事项时不计该项，其余各项按权重折算。本期有交办或办结的单位参加排名；"
              "得分相同的，期末超期少的在前。").format(**WEIGHTS)
CHANGE_RULE = "环比：本期减上期。比率以百分点计，次数和件数以件计；任一期没有可计算的事项时为“—”。"
TOWN_RULE = "按事项来自的民情哨所在的乡镇（街道）统计，各项口径同按部门的表。"


class Change(float):
    """A rate's change in percentage points: "+2.5" on the page, a number in a sheet."""

    def __str__(self) -> str:
        return f"{self:+.1f}" if self else "0.0"


class CountChange(int):
    """A count's change: "+3" on the page, a number in a sheet."""

    def __str__(self) -> str:
        return f"{int(self):+d}" if self else "0"


def unit_name(registry, unit: str) -> str:
    if unit == NO_DEPARTMENT:
        return NO_DEPARTMENT_NAME
    department = next((d for d in getattr(registry, "departments", ()) if d.id == unit), None)
    return department.name if department else unit


def _share(rate: float | None) -> Percent | str:
    return "—" if rate is None else Percent(rate)


def _cells(tally: Tally) -> list:
    return [tally.dispatched, _share(tally.sign_rate), _share(tally.close_rate), _share(tally.on_time_rate),
            tally.returned, tally.extension_asked, tally.extension_granted, tally.overdue_now, tally.overdue_ever,
            _share(tally.satisfaction)]


def _order(registry, tallies: dict[str, Tally], only: str | None) -> list[str]:
    """Every department of the registry in its order (idle ones too: a table that drops a
    department hides that it had nothing), then ids it no longer lists, then none."""
    listed = [d.id for d in getattr(registry, "departments", ())]
    units = listed + sorted(u for u in tallies if u not in listed and u != NO_DEPARTMENT)
    if NO_DEPARTMENT in tallies and tallies[NO_DEPARTMENT].active():
        units.append(NO_DEPARTMENT)
    return [u for u in units if only is None or u == only]


def _notes(*lines: str) -> str:
    return "\n".join(lines)


def _department_table(title: str, registry, figures: Figures, only: str | None) -> Table:
    rows = [[unit_name(registry, unit), *_cells(figures.departments.get(unit, Tally()))]
            for unit in _order(registry, figures.departments, only)]
    return Table(title, ["承办单位", *METRICS], rows, note=_notes(*DEFINITIONS.values(), COMMON))


def _town_table(title: str, figures: Figures) -> Table:
    rows = [[town, *_cells(tally)] for town, tally in sorted(figures.towns.items())]
    return Table(title, ["乡镇（街道）", *METRICS], rows, note=_notes(TOWN_RULE, COMMON))


def _ranking_table(title: str, registry, current: list[Place], previous: list[Place]) -> Table:
    before = {p.department: p for p in previous}
    rows = []
    for place in current:
        last = before.get(place.department)
        rows.append([place.rank, unit_name(registry, place.department), place.score,
                     last.score if last else "—", CountChange(last.rank - place.rank) if last else "—",
                     last.rank if last else "—"])
    return Table(title, ["名次", "承办单位", "综合得分", "上期得分", "名次变化", "上期名次"], rows,
                 note=_notes(SCORE_RULE, "名次变化：上期名次减本期名次，正数为上升。"))


def _point_change(now: float | None, then: float | None) -> Change | str:
    return "—" if now is None or then is None else Change(round(100 * (now - then), 1))


def _change_table(title: str, registry, current: Figures, previous: Figures, only: str | None) -> Table:
    rows = []
    for unit in _order(registry, {**previous.departments, **current.departments}, only):
        now, then = current.departments.get(unit, Tally()), previous.departments.get(unit, Tally())
        rows.append([unit_name(registry, unit), CountChange(now.dispatched - then.dispatched),
                     *(_point_change(getattr(now, rate), getattr(then, rate))
                       for rate in ("sign_rate", "close_rate", "on_time_rate")),
                     CountChange(now.overdue_now - then.overdue_now), _point_change(now.satisfaction, then.satisfaction)])
    columns = ["承办单位", "交办数", "及时签收率（百分点）", "办结率（百分点）", "按期办结率（百分点）", "期末超期", "满意率（百分点）"]
    return Table(title, columns, rows, note=CHANGE_RULE)


def monthly_tables(current: Figures, previous: Figures, registry, only: str | None = None,
                   word: str = "本月") -> list[Table]:
    """The 考核 tables of a period against the one before. `only`: a department account's id."""
    tables = [
        _department_table(f"承办单位考核：{word}按部门", registry, current, only),
        _ranking_table(f"承办单位排名：{word}", registry, ranking(current.departments), ranking(previous.departments)),
        _change_table(f"承办单位考核：环比（{word}与上期相比）", registry, current, previous, only),
    ]
    if only is None:
        tables.append(_town_table(f"承办单位考核：{word}按乡镇（街道）", current))
    return tables


def weekly_tables(current: Figures, registry, only: str | None = None) -> list[Table]:
    """The meeting pack's one table: the week's figures of each department that had any."""
    units = [u for u in _order(registry, current.departments, only)
             if u in current.departments and current.departments[u].active()]
    rows = [[unit_name(registry, unit), *_cells(current.departments[unit])] for unit in units]
    return [Table("本周承办单位情况", ["承办单位", *METRICS], rows,
                  note=_notes(*DEFINITIONS.values(), COMMON.replace("本期", "本周")).replace("本期", "本周"))]


@dataclass(frozen=True)
class ScoreBar:
    """One bar of the 考核 page's chart: this period's score, and the last one's mark."""

    name: str
    score: float
    previous: float | None


def score_bars(registry, current: Figures, previous: Figures) -> list[ScoreBar]:
    before = {p.department: p.score for p in ranking(previous.departments)}
    return [ScoreBar(unit_name(registry, p.department), p.score, before.get(p.department))
            for p in ranking(current.departments)]
