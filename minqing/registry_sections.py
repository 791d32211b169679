"""The registry's optional rule sections, `dispatch` and `letters`: each missing key
takes its default (see `departments.DispatchRules`, `LetterRules`), each given one is
checked with the file's line."""

from __future__ import annotations

from typing import Any

from minqing.departments import TRACK_IDS, DispatchRules, LetterRules

__all__ = ["Sections"]


class Sections:
    def __init__(self, validator) -> None:
        self.v = validator  # registry._Validator: its `fail` and `text` locate the line

    def section(self, data: Any, key: str) -> dict:
        node = data.get(key)
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.v.fail(data, f"'{key}' must be a mapping.", key)
        return node

    def number(self, node: dict, key: str, default: int, what: str, least: int = 0) -> int:
        value = node.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= 3650:
            self.v.fail(node, f"{what}: '{key}' must be a whole number from {least} to 3650.", key)
        return value

    def dispatch(self, data: Any) -> DispatchRules:
        node, base = self.section(data, "dispatch"), DispatchRules()
        what = "dispatch"
        days = node.get("deadline_days", {})
        if not isinstance(days, dict):
            self.v.fail(node, "dispatch: 'deadline_days' must be a mapping like {immediate: 7, long_term: 90}.",
                        "deadline_days")
        for track in days:
            if track not in TRACK_IDS:
                self.v.fail(days, f"dispatch: 'deadline_days' names the unknown track '{track}' "
                            f"(use {', '.join(TRACK_IDS)}).", track)
        deadline_days = {t: self.number(days, t, base.deadline_days[t], "dispatch deadline_days", least=1)
                         for t in TRACK_IDS}
        return DispatchRules(
            sign_within_working_days=self.number(node, "sign_within_working_days", base.sign_within_working_days,
                                                 what, least=1),
            warn_days=self.number(node, "warn_days", base.warn_days, what),
            deadline_days=deadline_days,
            undo_minutes=self.number(node, "undo_minutes", base.undo_minutes, what),
        )

    def letters(self, data: Any) -> LetterRules:
        node, base = self.section(data, "letters"), LetterRules()
        what = "letters"
        numbers = {}
        for key in ("letter_number", "supervision_number"):
            text = self.v.text(node, key, what, required=False) if node else ""
            text = text or getattr(base, key)
            try:
                sample = text.format(year=2026, n=1)
            except (KeyError, IndexError, ValueError):
                sample = ""
            if "{n}" not in text or not sample:
                self.v.fail(node, f"letters: '{key}' must hold {{n}} (the number) and may hold {{year}}, "
                            "and no other {…}.", key)
            numbers[key] = text
        return LetterRules(
            issuer=(self.v.text(node, "issuer", what, required=False) if node else "") or base.issuer,
            letter_number=numbers["letter_number"],
            supervision_number=numbers["supervision_number"],
            answer_days=self.number(node, "answer_days", base.answer_days, what, least=1),
        )
