"""A record's page (/office/records/{id}) and its lifecycle actions: the full record
read from disk and opened for this session, its merged duplicates, its history, and
the actions this account may take, each one at a time against the entry it changes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.dispatch.queue import sign_overdue
from sync_server.intake.receipt import normalize
from sync_server.office.acting import gathered, new_entry_for, store
from sync_server.office.callbacks import has_phone
from sync_server.office.duplicate_hints import EXPLANATION as HINTS_EXPLANATION
from sync_server.office.duplicate_lookup import hints_for
from sync_server.office.notices import DONE, done_message
from sync_server.office.pages import full_rows, guarded, local_today, off_loop, render, row_or_404, unlocked_keys, visible_row
from sync_server.office.sealed import opened
from sync_server.office.supervision_pages import supervise_matter, void_undone_sheet
from sync_server.office.verdict_view import verdict_context
from sync_server.triage import (
    ACTIONS,
    CONFIRM,
    DECLINE_REPLY,
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
    check_merge_target,
    now_utc,
)

__all__ = ["ASK_AGAIN", "helpers_after", "record_action", "record_page"]


def _display_names(request: Request, history: list[dict]) -> dict[str, str]:
    accounts = request.app.state.accounts
    names = {}
    for step in history:
        if step["by"] not in names:
            found = accounts.get(step["by"])
            names[step["by"]] = found.display if found else step["by"]
    return names


def helpers_after(history: list, entry) -> dict[int, list[str]]:
    """The 协办 departments of the matter now, by the index of the 交办 or 改派 step that
    set them (the latest): earlier steps keep no record of theirs (only a matter's last
    step keeps what it changed), so the history names no helpers it cannot know."""
    helpers = list(entry.get("co_departments") or ())
    for index in range(len(history) - 1, -1, -1):
        if history[index].get("action") in ("assign", "reassign"):
            return {index: helpers} if helpers else {}
    return {}


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
    hints = await off_loop(request, hints_for, state, account, unlocked_keys(request), row)
    code = request.query_params.get("error", "")
    registry = state.stations.registry
    lead = registry.lead_of(row.sector_id) if row.sector_id else None
    today = local_today()
    return render(request, "record.html", {
        **verdict_context(state, account, unlocked_keys(request), row),
        "hints": hints, "hints_explanation": HINTS_EXPLANATION,
        "done": done_message(request.query_params.get("done", "")),
        "helpers_after": helpers_after(row.triage["history"], row.triage),
        # Steps taken back by a 撤回: they stay in the history, marked, never deleted.
        "undone": {step.get("undid") for step in row.triage["history"] if step.get("action") == "undo"},
        "departments": registry.departments, "dept_names": {d.id: d.name for d in registry.departments},
        "suggested_helpers": {d.id for d in registry.departments if row.sector_id in d.helps},
        "deadline_defaults": {k: (today + timedelta(days=registry.dispatch.deadline_days.get(k, 0))).isoformat()
                              for k in TRACKS},
        "sign_late": sign_overdue(row.triage, now_utc()),
        "undo_hint": f"{registry.dispatch.undo_minutes} 分钟内、无人接着办理时，可撤回自己的上一步，撤回本身也记入处理记录。",
        "account": account, "session": session, "row": row, "merged": merged, "hidden_merged": hidden_merged,
        "target": target, "allowed": [a for a in allowed_actions(row.triage, account.role, account, now_utc(),
                                                                 state.stations.registry.dispatch.undo_minutes)
                                      # 回访 by phone only while a consented phone is stored.
                                      if a != "follow_up" or has_phone(row.record)],
        "show_phone": account.role == "staff" and row.record.get("consent") and row.record.get("phone"),
        "statuses": STATUSES, "tracks": TRACKS, "outcomes": {k: v for k, v in OUTCOMES.items() if k != "merged"},
        "all_outcomes": OUTCOMES, "names": _display_names(request, row.triage["history"]),
        "visible_ids": {r.id for r in merged} | ({target.id} if target else set()),
        "receipts": {r.id: r.record["receipt"] for r in (*merged, *others, *([target] if target else []))},
        "events": EVENTS,
        "satisfaction": SATISFACTION, "actions": ACTIONS, "error": MESSAGES.get(code, ""),
        "decline_reply": DECLINE_REPLY, "first_year": FIRST_YEAR, "last_year": LAST_YEAR, "summary_limit": SUMMARY_LIMIT,
        "lead_default": lead.id if lead else "",
    })


# Actions asked twice, on a second page: those that end a matter (办结, 不予受理, 合并,
# 审核办结) or move it to another hand (交办, 改派, 退回).
# 重新办理 hands a closed matter back; 公开 puts staff words before the public.
ASK_AGAIN = CONFIRM | {"assign", "reassign", "send_back", "approve", "reopen", "publish"}


def _back(row_id: str, error: str | None = None, done: str | None = None) -> Response:
    query = f"?error={error}" if error else f"?done={done}" if done in DONE else ""
    return RedirectResponse(f"/office/records/{row_id}{query}", status_code=303)


@guarded(roles=("staff", "department"))
async def record_action(request: Request, account, session, form) -> Response:
    state = request.app.state
    row = row_or_404(request, account, request.path_params["id"])
    action = str(form.get("action", ""))
    fields = gathered(form)
    if action == "supervise":  # it numbers a 督办单 too: `supervision_pages` takes it whole
        return await supervise_matter(request, account, session, form)
    if action == "follow_up":
        stored = await off_loop(request, state.inbox.get, row.id)
        fields["phone_on_record"] = "yes" if stored is not None and has_phone(stored) else "no"
    async with state.office_writes:  # one action at a time: each reads the entry it changes
        row = row_or_404(request, account, row.id)
        now = now_utc()
        target = None
        try:
            if action == "merge":
                target = _merge_target(request, account, row, fields)
                fields["into"] = target.id
            entry = new_entry_for(request, account, row, action, fields, now)
        except TriageError as error:
            if action == "follow_up" and fields.get("return_to") == "callbacks":
                return RedirectResponse(f"/office/callbacks?error={error.code}", status_code=303)
            return _back(row.id, error.code)
        if action in ASK_AGAIN and fields.get("confirm") != "yes":
            # The second step: a plain form, so it works without JavaScript.
            return render(request, "confirm.html", {
                "account": account, "session": session, "row": row, "action": action, "label": ACTIONS[action][1],
                "fields": {k: v for k, v in fields.items() if k not in ("confirm", "into")} |
                          ({"into": target.record["receipt"]} if target else {}),
                "target": target, "outcomes": OUTCOMES, "entry": entry, "tracks": TRACKS,
                "dept_names": {d.id: d.name for d in state.stations.registry.departments},
            })
        changes = _merged_changes(request, account, row, target, entry) if target is not None else {row.id: entry}
        await void_undone_sheet(request, account, entry)
        await store(request, changes)
    if action == "follow_up" and fields.get("return_to") == "callbacks":
        # Recorded from the 回访 list: back to the list, the next citizen to call.
        return RedirectResponse("/office/callbacks?done=follow_up", status_code=303)
    if visible_row(request, account, row.id) is None:
        # 退回 or 改派 may end this account's sight of the record: say so on its queue.
        return RedirectResponse(f"/office/queue?done={action}", status_code=303)
    return _back(row.id, done=action)


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
