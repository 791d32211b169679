"""Matters dispatched before departments were real: their 牵头部门 was free text. At
start each is mapped to the registry department of exactly that name; one no name
matches keeps its text and is flagged (`lead_unmapped`) for staff to dispatch again.
Nothing is dropped, and a flagged matter is mapped at a later start once the registry
names its department."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["mapped_leads"]


def mapped_leads(entries: Mapping[str, Mapping[str, Any]], registry) -> dict[str, dict[str, Any]]:
    """The entries to store again: id -> entry with `department` (or `lead_unmapped`) set."""
    changed: dict[str, dict[str, Any]] = {}
    for submission_id, entry in entries.items():
        lead = entry.get("lead") or ""
        # Dispatched by this version (its steps name the department, even one sent back
        # and now without any): not an old free-text lead.
        if not lead or entry.get("department") or any(step.get("department") for step in entry.get("history") or ()):
            continue
        found = registry.department_named(lead.strip())
        if found is not None:
            changed[submission_id] = {**entry, "department": found.id, "lead": found.name, "lead_unmapped": False}
        elif not entry.get("lead_unmapped"):
            changed[submission_id] = {**entry, "lead_unmapped": True}
    return changed
