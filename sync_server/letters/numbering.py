"""Letter numbers as printed (文号) and dates as a Chinese official letter writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

__all__ = ["KINDS", "chinese_date", "labeller"]

# kind: what the office calls it. The store numbers each kind apart, per year.
KINDS = {"letter": "工作建议函", "supervision": "督办单"}


def labeller(form: str, year: int) -> Callable[[int], str]:
    """The 文号 of number n in `year`, from the registry's form (e.g. 金扫黑办函〔{year}〕{n}号).

    Only `{year}` and `{n}` are filled: a form is words from the registry, not code, so
    any other brace is printed as it stands."""
    def label(n: int) -> str:
        return form.replace("{year}", str(year)).replace("{n}", str(n))
    return label


def chinese_date(day: date) -> str:
    """成文日期 as GB/T 9704-2012 writes it: the year in full, no leading zeros (2026年12月8日)."""
    return f"{day.year}年{day.month}月{day.day}日"
