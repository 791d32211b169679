"""督办 from a record's page: POST /office/records/{id}/supervise (staff). Numbers the
matter's 督办单 (or takes the one a kill left unnamed, see `letters.supervision`), names it
on the matter with a history step, and opens the sheet's page, ready to print."""

from __future__ import annotations

from datetime import datetime, timezone

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.letters.numbering import labeller
from sync_server.letters.supervision import SupervisionError, check_supervisable, pending_sheet, sheet_fields
from sync_server.letters.tracking import answer_due
from sync_server.office.letter_matters import matter_rows
from sync_server.office.pages import guarded, local_today, message_page, off_loop, row_or_404
from sync_server.office.records import CHINA
from sync_server.triage import TriageError, apply

__all__ = ["supervise", "supervise_matter"]


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
            check_supervisable(row.triage)
            letters = state.store.letters
            sheet = pending_sheet(await off_loop(request, letters.all), row.id)
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
