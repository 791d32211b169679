"""The departments the office hands matters to, and the registry's rules for that
hand-over (`dispatch`) and for the office's letters (`letters`).

A department is what a 交办 names: its id is stored on every dispatched matter and on
every department account, so, like station ids, it is never reused. Its name is what
pages, posters and letters print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TRACK_IDS", "Department", "DispatchRules", "LetterRules", "derived_departments"]

# The tracks a deadline default is given for (the office's 立行立改 and 长效常治).
TRACK_IDS = ("immediate", "long_term")


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    leads: tuple[str, ...] = ()  # sectors it leads: each sector has exactly one lead
    helps: tuple[str, ...] = ()  # sectors it is suggested as 协办 on (not enforced)


@dataclass(frozen=True)
class DispatchRules:
    sign_within_working_days: int = 1  # 签收 due this many working days (Mon-Fri) after 交办
    warn_days: int = 3  # 临期预警 this many days before the deadline
    deadline_days: dict[str, int] = field(default_factory=lambda: {"immediate": 7, "long_term": 90})
    undo_minutes: int = 10  # 撤回 of one's own last step, within this many minutes


@dataclass(frozen=True)
class LetterRules:
    issuer: str = "金坛区扫黑除恶专项斗争领导小组办公室"
    letter_number: str = "金扫黑办函〔{year}〕{n}号"
    supervision_number: str = "金扫黑办督〔{year}〕{n}号"
    answer_days: int = 15  # a letter unanswered this many days after sending is overdue


def derived_departments(sectors) -> list[Department]:
    """For a registry without `departments`: one department per distinct sector `lead`
    name, ids dept-1, dept-2, ... in order of first appearance."""
    by_name: dict[str, list[str]] = {}
    for sector in sectors:
        if sector.lead:
            by_name.setdefault(sector.lead, []).append(sector.id)
    return [Department(id=f"dept-{n}", name=name, leads=tuple(leads))
            for n, (name, leads) in enumerate(by_name.items(), 1)]
