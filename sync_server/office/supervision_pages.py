"""督办 from a record's page: POST /office/records/{id}/supervise (staff). Numbers the
matter's 督办单 (or takes the one a kill left unnamed, see `letters.supervision`), names it
on the matter with a history step, and opens the sheet's page, ready to print."""

from __future__ import annotations

from datetime import datetime, timezone

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.letters.content import void_fields
from sync_server.letters.numbering import labeller
from sync_server.letters.supervision import (
    SupervisionError,
    check_supervisable,
    live_sheet,
    pending_sheet,
    sheet_fields,
    stale_sheets,
)
from sync_server.letters.tracking import answer_due
from sync_server.office.letter_matters import matter_rows
from sync_server.office.pages import guarded, local_today, message_page, off_loop, row_or_404
from sync_server.office.records import CHINA
from sync_server.triage import TriageError, apply

__all__ = ["STALE_REASON", "UNDONE_REASON", "supervise", "supervise_matter", "void_undone_sheet"]

STALE_REASON = "事项已改派其他单位，本督办单作废。"
UNDONE_REASON = "督办已撤回，本督办单作废。"


def department_of(registry, entry):
    """The matter's lead department: its id since dispatch names one, else its old lead's name."""
    if entry.get("department"):
        return registry.department(entry["department"])
    return next((d for d in registry.departments if entry.get("lead") and d.name == entry["lead"]), None)


async def supervise_matter(request: Request, account, session, form) -> Response:
    """The action itself, for this route and for the record page's action form (`action=supervise`)."""
    state = request.app.state
    registry = state.stations.registry
    rules = registry.letters
    async with state.office_writes:  # one action at a time: each reads the entry it changes
        row = row_or_404(request, account, request.path_params["id"])
        now, today = datetime.now(CHINA), local_today()
        try:
            letters = state.store.letters
            issued = await off_loop(request, letters.all)
            check_supervisable(row.triage, live_sheet(issued, row.triage))
            for stale in stale_sheets(issued, row.triage, row.id):
                # Addressed to a department that no longer holds the matter: no longer a demand on it.
                await to_thread.run_sync(letters.update, stale["id"],
                                         void_fields(stale, STALE_REASON, account.name, account.display, now))
            sheet = pending_sheet(issued, row.triage, row.id)
            if sheet is None:
                matter = (await off_loop(request, matter_rows, request, account, [row]))[0]
                fields = sheet_fields(matter=matter, department=department_of(registry, row.triage),
                                      requirements=str(form.get("requirements", form.get("note", ""))), sent_on=today,
                                      due=answer_due(today, rules.answer_days), issuer=rules.issuer, by=account.name,
                                      by_display=account.display, now=now)
                sheet = await to_thread.run_sync(letters.issue, "supervision", today.year, fields,
                                                  labeller(rules.supervision_number, today.year))
            # Every history step is in UTC, as `triage.apply` writes the others: times compare as text.
            entry = _supervised(row.triage, sheet, account, registry, now.astimezone(timezone.utc))
        except (SupervisionError, TriageError) as error:
            return message_page(request, account, str(error), 400)
        stored = await to_thread.run_sync(state.triage.put_many, {row.id: entry})
        await to_thread.run_sync(state.readside.triage_changed, stored)
    return RedirectResponse(f"/office/letters/{sheet['id']}?done=supervised", status_code=303)


def _supervised(entry, sheet: dict, account, registry, now) -> dict:
    """The entry under supervision: the lifecycle's 督办 step (by display name, with what it
    changed, so 撤回 can put it back), which also names the sheet to open from the history."""
    new = apply(entry, "supervise", {"supervision": sheet["number"], "note": sheet["requirements"]}, account.name, now,
                account=account, registry=registry)
    new["history"][-1] = {**new["history"][-1], "supervision": sheet["number"], "letter": sheet["id"]}
    return new


@guarded(roles=("staff",))
async def supervise(request: Request, account, session, form) -> Response:
    return await supervise_matter(request, account, session, form)


async def void_undone_sheet(request: Request, account, entry: dict) -> None:
    """When `entry` (not stored yet) takes back a 督办, void the sheet that step numbered:
    a withdrawn 督办 leaves no live demand on the department. Voided before the entry is
    stored, so a kill between leaves a matter naming a voided sheet, which may be supervised
    again (`live_sheet`), never a live sheet on a matter no longer supervised."""
    step = entry["history"][-1]
    if step.get("action") != "undo":
        return
    undone = entry["history"][step["undid"]]
    letters = request.app.state.store.letters
    sheet = letters.get(undone["letter"]) if undone.get("action") == "supervise" and undone.get("letter") else None
    if sheet is not None and not sheet.get("voided"):
        await to_thread.run_sync(letters.update, sheet["id"],
                                 void_fields(sheet, UNDONE_REASON, account.name, account.display, datetime.now(CHINA)))
