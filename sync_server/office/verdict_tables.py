"""The 群众说了算 figures (`verdict_figures`) as report tables: one per grouping (post,
sector, lead department, town), each with the district's total as its last row and the
definitions under it, the same in the weekly pack, the monthly report and /office/results."""

from __future__ import annotations

from sync_server.office.reports import Table
from sync_server.office.spreadsheet import Percent
from sync_server.office.verdict_figures import DEFINITIONS, DIMENSIONS, Board, VerdictTally

__all__ = ["COLUMNS", "TOTAL", "tally_cells", "verdict_tables"]

COLUMNS = ["已受理", "已办结", "办结率", "已回访", "回访率", "有评价", "满意率", "不满意", "重新办理"]
TOTAL = "合计"


def _share(rate: float | None) -> Percent | str:
    return Percent(rate) if rate is not None else "—"


def tally_cells(tally: VerdictTally) -> list:
    return [tally.accepted, tally.closed, _share(tally.close_rate), tally.visited, _share(tally.visit_rate),
            tally.verdicts, _share(tally.satisfaction), tally.dissatisfied, tally.reopened]


def verdict_tables(board: Board, dimensions: tuple[str, ...] | None = None) -> list[Table]:
    """The board's tables, biggest groups first; `dimensions` picks the groupings (all by default)."""
    note = "\n".join(DEFINITIONS)
    tables = []
    for key, heading in DIMENSIONS:
        if dimensions is not None and key not in dimensions:
            continue
        groups = board.groups.get(key, {})
        rows = [[name, *tally_cells(tally)]
                for name, tally in sorted(groups.items(), key=lambda kv: (-kv[1].accepted, -kv[1].verdicts, kv[0]))]
        rows.append([TOTAL, *tally_cells(board.total)])
        tables.append(Table(f"办结、回访与满意率（{board.span.word}）：按{heading}", [heading, *COLUMNS], rows, note=note))
    return tables
