"""A record's page (/office/records/{id}) and its lifecycle actions: the full record
read from disk and opened for this session, its merged duplicates, its history, and
the actions this account may take, each one at a time against the entry it changes."""

from __future__ import annotations

import dataclasses

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.intake.receipt import normalize
from sync_server.office.pages import full_rows, guarded, local_today, off_loop, render, row_or_404, unlocked_keys, visible_row
from sync_server.office.sealed import opened
from sync_server.triage import (
    ACTIONS,
    CONFIRM,
    DECLINE_REPLY,
    DEPARTMENT_ACTIONS,
    EVENTS,
    FIRST_YEAR,
    LAST_YEAR,
    MESSAGES,
    OUTCOMES,
    SATISFACTION,
    STATUSES,
    SUMMARY_LIMIT,
    TRACKS,
    TriageError,
    allowed_actions,
    apply,
    check_merge_target,
    now_utc,
)

__all__ = ["record_action", "record_page"]


def _display_names(request: Request, history: list[dict]) -> dict[str, str]:
    accounts = request.app.state.accounts
    names = {}
    for step in history:
        if step["by"] not in names:
            found = accounts.get(step["by"])
            names[step["by"]] = found.display if found else step["by"]
    return names


@guarded(roles=("staff", "department"))
async def record_page(request: Request, account, session) -> Response:
    state = request.app.state
    row = row_or_404(request, account, request.path_params["id"])
    # The list's summary has no phone: the page reads its one record from disk.
    full = await off_loop(request, state.inbox.get, row.id)
    if full is not None:
        row = dataclasses.replace(row, record=opened(state, account, unlocked_keys(request), full,
                                                     with_phone=account.role == "staff"))
    merged = [r for r in (visible_row(request, account, i) for i in row.triage["merged"]) if r is not None]
    merged = await off_loop(request, full_rows, request, account, merged)
    hidden_merged = len(row.triage["merged"]) - len(merged)
    target = visible_row(request, account, row.triage["merged_into"]) if row.triage.get("merged_into") else None
    # Records the history names (a duplicate merged here, the record a duplicate moved on
    # to): their receipts where this account may see them.
    named = {step["merged_id"] for step in row.triage["history"] if step.get("merged_id")}
    named -= {r.id for r in merged} | ({target.id} if target else set())
    others = [r for r in (visible_row(request, account, i) for i in named) if r is not None]
    code = request.query_params.get("error", "")
    return render(request, "record.html", {
        "account": account, "session": session, "row": row, "merged": merged, "hidden_merged": hidden_merged,
        "target": target, "allowed": allowed_actions(row.triage, account.role, account, now_utc(),
                                                     state.stations.registry.dispatch.undo_minutes),
        "show_phone": account.role == "staff" and row.record.get("consent") and row.record.get("phone"),
        "statuses": STATUSES, "tracks": TRACKS, "outcomes": {k: v for k, v in OUTCOMES.items() if k != "merged"},
        "all_outcomes": OUTCOMES, "names": _display_names(request, row.triage["history"]),
        "visible_ids": {r.id for r in merged} | ({target.id} if target else set()),
        "receipts": {r.id: r.record["receipt"] for r in (*merged, *others, *([target] if target else []))},
        "events": EVENTS,
        "satisfaction": SATISFACTION, "actions": ACTIONS, "error": MESSAGES.get(code, ""),
        "decline_reply": DECLINE_REPLY, "first_year": FIRST_YEAR, "last_year": LAST_YEAR, "summary_limit": SUMMARY_LIMIT,
        "lead_default": state.stations.registry.sector(row.sector_id).lead if row.sector_id else "",
    })


def _back(row_id: str, code: str | None = None) -> Response:
    return RedirectResponse(f"/office/records/{row_id}" + (f"?error={code}" if code else ""), status_code=303)


@guarded(roles=("staff", "department"))
async def record_action(request: Request, account, session, form) -> Response:
    state = request.app.state
    row = row_or_404(request, account, request.path_params["id"])
    action = str(form.get("action", ""))
    fields = {k: str(v) for k, v in form.items() if k != "csrf"}
    if account.role != "staff" and action not in DEPARTMENT_ACTIONS:
        return _back(row.id, "not_your_action")
    async with state.office_writes:  # one action at a time: each reads the entry it changes
        row = row_or_404(request, account, row.id)
        now = now_utc()
        target = None
        try:
            if action == "merge":
                target = _merge_target(request, account, row, fields)
                fields["into"] = target.id
            entry = apply(row.triage, action, fields, account.name, now, account=account,
                          registry=state.stations.registry)
        except TriageError as error:
            return _back(row.id, error.code)
        if action in CONFIRM and fields.get("confirm") != "yes":
            # The second step: a plain form, so it works without JavaScript.
            return render(request, "confirm.html", {
                "account": account, "session": session, "row": row, "action": action, "label": ACTIONS[action][1],
                "fields": {k: v for k, v in fields.items() if k not in ("confirm", "into")} |
                          ({"into": target.record["receipt"]} if target else {}),
                "target": target, "outcomes": OUTCOMES,
            })
        changes = _merged_changes(request, account, row, target, entry) if target is not None else {row.id: entry}
        stored = await to_thread.run_sync(state.triage.put_many, changes)
        # Off the event loop too: it copies the entries and the sets it replaces (tens of
        # milliseconds at a million records), time an upload must not wait behind. The
        # index shares the book's read-only entries, not the dicts built here.
        await to_thread.run_sync(state.readside.triage_changed, stored)
    return _back(row.id)


def _merged_changes(request: Request, account, row, target, entry: dict) -> dict[str, dict]:
    """The entries a merge of `row` into `target` changes. The duplicates already merged
    into `row` move on with it: each then follows the live matter (its citizen reads the
    target's status and reply), and the target's page lists every text it answers."""
    state, at = request.app.state, entry["updated_at"]
    moved = [r for r in (state.readside.row(i, state.stations.registry, local_today()) for i in row.triage["merged"])
             if r is not None]
    status = target.triage["status"]
    joined = [{"at": at, "by": account.name, "by_display": account.display, "action": "merged_from", "from": status, "to": status, "note": "",
               "merged_id": r.id} for r in (row, *moved)]
    changes = {target.id: {**target.triage, "merged": [*target.triage["merged"], row.id, *(r.id for r in moved)],
                           "history": [*target.triage["history"], *joined]},
               row.id: {**entry, "merged": []}}
    for duplicate in moved:
        step = {"at": at, "by": account.name, "by_display": account.display, "action": "merge_moved", "from": duplicate.triage["status"],
                "to": duplicate.triage["status"], "note": "", "merged_id": target.id}
        changes[duplicate.id] = {**duplicate.triage, "merged_into": target.id,
                                 "history": [*duplicate.triage["history"], step]}
    return changes


def _merge_target(request, account, row, fields):
    typed = fields.get("into", "").strip()
    if not typed:
        raise TriageError("missing_into")
    code = normalize(typed)  # full width too (see `receipt.normalize`)
    target_id = request.app.state.inbox.receipt_owner(code) if code else None
    target = visible_row(request, account, target_id) if target_id else None
    if target is None:  # a code cut short or mistyped is not found, whatever it looks like
        raise TriageError("merge_unknown")
    if target.id == row.id:
        raise TriageError("merge_self")
    check_merge_target(target.triage)
    return target
