"""批量受理 and 批量交办 from the office list (/office/batch): the rows ticked on the list,
a confirmation page naming every record, then each record taken through the same rules
as its own page (`acting`), one at a time against its current entry. The answer says
how many were done and, for each refused, its receipt and why."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.acting import gathered, new_entry_for, store
from sync_server.office.pages import guarded, message_page, render, visible_row
from sync_server.triage import MESSAGES, TRACKS, TriageError, now_utc

__all__ = ["BATCH_ACTIONS", "LIMIT", "PICK_PREFIX", "Outcome", "batch"]

BATCH_ACTIONS = {"accept": "批量受理", "assign": "批量交办"}
PICK_PREFIX = "pick:"  # one checkbox per row (`pick:<id>`): a form keeps one value a name
LIMIT = 100  # a page shows 25; more is a hand-made form
# What the batch form carries into each record's action; nothing else of it is used.
CARRIED = {"accept": ("note",), "assign": ("department", "co_departments", "track", "deadline", "note")}


@dataclass(frozen=True)
class Outcome:
    done: list  # rows changed
    refused: list[tuple[object, str]]  # (row, the Chinese reason)
    unknown: int  # ids no longer (or never) found


def _picked(form: dict[str, str]) -> list[str]:
    seen: dict[str, None] = {}
    for name, value in form.items():
        if name.startswith(PICK_PREFIX) and value:
            seen.setdefault(name[len(PICK_PREFIX):][:64], None)
    return list(seen)


def _fields_for(request: Request, action: str, form: dict[str, str], row) -> dict[str, str]:
    """The fields of one record's action. An empty department means each record's own
    sector lead, as the record page's default would be."""
    fields = {k: v for k, v in gathered(form).items() if k in CARRIED[action]}
    if action == "assign" and not fields.get("department"):
        registry = request.app.state.stations.registry
        lead = registry.lead_of(row.sector_id) if row.sector_id else None
        fields["department"] = lead.id if lead else ""
    return fields


@guarded(roles=("staff",))
async def batch(request: Request, account, session, form) -> Response:
    state = request.app.state
    action = str(form.get("batch_action", ""))
    if action not in BATCH_ACTIONS:
        return message_page(request, account, "请选择批量操作：受理或交办。", 400)
    ids = _picked(form)
    if not ids:
        return message_page(request, account, "请先在列表中勾选要办理的记录。", 400)
    if len(ids) > LIMIT:
        return message_page(request, account, f"一次最多批量办理 {LIMIT} 条记录。", 400)
    registry = state.stations.registry
    context = {"account": account, "session": session, "action": action, "label": BATCH_ACTIONS[action],
               "tracks": TRACKS, "department": registry.department(form.get("department", "")),
               "fields": {k: v for k, v in form.items() if k not in ("csrf", "confirm")}}
    if form.get("confirm") != "yes":
        # The second step: every record named, on a plain form (no JavaScript needed).
        rows = [r for r in (visible_row(request, account, i) for i in ids) if r is not None]
        leads = {r.id: registry.lead_of(r.sector_id) if r.sector_id else None for r in rows}
        return render(request, "batch_confirm.html", {**context, "rows": rows, "leads": leads,
                                                      "missing": len(ids) - len(rows)})
    done, refused, changes, unknown = [], [], {}, 0
    async with state.office_writes:  # as one action: each record read as it is now
        now = now_utc()
        for submission_id in ids:
            row = visible_row(request, account, submission_id)
            if row is None:  # a hand-made form's id: counted, never named
                unknown += 1
                continue
            try:
                changes[row.id] = new_entry_for(request, account, row, action, _fields_for(request, action, form, row), now)
                done.append(row)
            except TriageError as error:
                refused.append((row, MESSAGES[error.code]))
        if changes:
            await store(request, changes)
    return render(request, "batch_result.html", {**context, "outcome": Outcome(done, refused, unknown)})
