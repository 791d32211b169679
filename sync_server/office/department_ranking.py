"""The departments' ranking (排名): one score from the four rates, and the order.

Pure. A rate a department has no base for in the period (nothing to sign, nothing
closed, no verdict) is left out, and the others' weights scale up to 100: a department
is neither punished nor rewarded for what it was not given. Only departments given or
closing something in the period are ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.office.department_figures import NO_DEPARTMENT, Tally

__all__ = ["WEIGHTS", "Place", "ranking", "score"]

# Rate (a `Tally` property): its weight out of 100.
WEIGHTS = {"sign_rate": 20, "close_rate": 30, "on_time_rate": 30, "satisfaction": 20}


@dataclass(frozen=True)
class Place:
    rank: int
    department: str  # id
    score: float  # 0-100


def score(tally: Tally) -> float | None:
    """The weighted mean of the rates it has, out of 100; None when it has none."""
    have = {name: rate for name in WEIGHTS if (rate := getattr(tally, name)) is not None}
    if not have:
        return None
    weight = sum(WEIGHTS[name] for name in have)
    return 100 * sum(WEIGHTS[name] * rate for name, rate in have.items()) / weight


def ranking(tallies: dict[str, Tally]) -> list[Place]:
    """Highest score first; on a tie, fewer matters overdue at the cut-off, then the id.
    Equal score and overdue share a rank (1, 2, 2, 4)."""
    scored = [(round(s, 1), t.overdue_now, unit) for unit, t in tallies.items()
              if unit != NO_DEPARTMENT and (t.dispatched or t.closed) and (s := score(t)) is not None]
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    places: list[Place] = []
    for position, (value, overdue, unit) in enumerate(scored, 1):
        tied = places and (places[-1].score, tallies[places[-1].department].overdue_now) == (value, overdue)
        places.append(Place(places[-1].rank if tied else position, unit, value))
    return places
