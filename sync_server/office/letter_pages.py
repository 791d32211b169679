"""The office's 工作建议函 (/office/letters): the list with each letter's state, and a new
letter to a lead department, from matters picked on the records list (`?ids=`), typed
as receipts, or every open matter of a sector. A new letter is shown whole before it is
sent: its number is taken at sending and never given again, so a mistake costs a number.

Staff make letters; a department account sees the letters addressed to its department
(and records its answer on the letter's page, `letter_view_pages`)."""

from __future__ import annotations

import secrets
from datetime import datetime

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.letters.content import LetterError, default_body, default_title, letter_fields
from sync_server.letters.document import MATTER_COLUMNS
from sync_server.letters.numbering import KINDS, chinese_date, labeller
from sync_server.letters.tracking import STATES, answer_due, state
from sync_server.office.letter_matters import (
    as_read_by,
    held_by,
    lead_of_rows,
    matter_rows,
    matters_closed,
    open_matters_of,
    rows_from_ids,
    rows_from_receipts,
)
from sync_server.office.pages import guarded, local_today, off_loop, render
from sync_server.office.records import CHINA

__all__ = ["letter_create", "letter_edit", "letter_form", "letter_list", "letters_of"]


def letters_of(request: Request, account, kind: str) -> list[dict]:
    """The letters of `kind` this account may read: all for staff, its own department's
    for a department account."""
    letters = [v for v in request.app.state.store.letters.all() if v["kind"] == kind]
    if account.role != "staff":
        letters = [v for v in letters if account.department and v["department"] == account.department]
    return [read for v in letters if (read := as_read_by(request, account, v)) is not None]


@guarded(roles=("staff", "department"))
async def letter_list(request: Request, account, session) -> Response:
    kind = request.query_params.get("kind", "letter")
    kind = kind if kind in KINDS else "letter"
    wanted = request.query_params.get("state", "")
    today = local_today()
    letters = await off_loop(request, letters_of, request, account, kind)
    shown = [(v, state(v, today, v["kind"] == "supervision" and matters_closed(request, v))) for v in reversed(letters)]
    counts = {key: sum(1 for _, s in shown if s == key) for key in STATES}
    if wanted in STATES:
        shown = [(v, s) for v, s in shown if s == wanted]
    return render(request, "letters.html", {
        "account": account, "session": session, "kind": kind, "kinds": KINDS, "shown": shown, "states": STATES,
        "wanted": wanted, "counts": counts,
    })


def _departments(registry) -> list:
    return list(registry.departments)


def _form(request: Request, account, session, values: dict, error: str = "", status: int = 200) -> Response:
    registry = request.app.state.stations.registry
    return render(request, "letter_new.html", {
        "account": account, "session": session, "values": values, "error": error,
        "departments": _departments(registry), "sectors": registry.sectors,
    }, status)


@guarded(roles=("staff",))
async def letter_form(request: Request, account, session) -> Response:
    """The new letter's form; `?ids=` (repeated) brings the matters picked on the list."""
    query = request.query_params
    ids = [i for i in query.getlist("ids") if i][:500]
    values = {"department": query.get("department", ""), "sector": query.get("sector", ""), "receipts": "",
              "title": "", "body": ""}
    if ids:
        try:
            rows = rows_from_ids(request, account, ids)
        except LetterError as error:
            return _form(request, account, session, values, str(error), 400)
        values["receipts"] = "\n".join(r.record["receipt"] for r in rows)
        lead = lead_of_rows(request.app.state.stations.registry, rows)
        values["department"] = values["department"] or (lead.id if lead else "")
    return _form(request, account, session, values)


@guarded(roles=("staff",))
async def letter_edit(request: Request, account, session, form) -> Response:
    """Back from the preview to the form, with what was typed."""
    values = {name: str(form.get(name, ""))[:20000] for name in ("department", "sector", "receipts", "title", "body")}
    return _form(request, account, session, values)


def _rows(request: Request, account, values: dict, department) -> list:
    """The matters typed or picked, or the open matters of a sector held by `department`
    (by default the sector's lead)."""
    if values["receipts"].strip():
        return rows_from_receipts(request, account, values["receipts"])
    if values["sector"]:
        department = department or request.app.state.stations.registry.lead_of(values["sector"])
        if department is None:
            raise LetterError("choose_department")
        rows = open_matters_of(request, account, values["sector"], department)
        if not rows:
            raise LetterError("none_held")
        return rows
    raise LetterError("no_matters")


@guarded(roles=("staff",))
async def letter_create(request: Request, account, session, form) -> Response:
    """A first post shows the letter as it will go out; a second (`confirm=yes`) sends it."""
    state = request.app.state
    registry = state.stations.registry
    values = {name: str(form.get(name, ""))[:20000] for name in ("department", "sector", "receipts", "title", "body")}
    rules = registry.letters
    today = local_today()
    due = answer_due(today, rules.answer_days)
    department = registry.department(values["department"]) if values["department"] else None
    try:
        rows = await off_loop(request, _rows, request, account, values, department)
        if department is None:
            lead = lead_of_rows(registry, rows) if rows else None
            if values["department"] or lead is None:
                raise LetterError("choose_department")
            department = lead
            values["department"] = lead.id
        # Only matters the department holds as lead: it then reads on the letter nothing it
        # could not read on its records, sealed words included (it holds their copy).
        held_by(rows, department)
        matters = await off_loop(request, matter_rows, request, account, rows)
        values["title"] = values["title"] or default_title(department.name)
        values["body"] = values["body"] or default_body(len(matters), due)
        fields = letter_fields(department=department, matters=matters, title=values["title"], body=values["body"],
                               sent_on=today, due=due, issuer=rules.issuer, by=account.name,
                               by_display=account.display, now=datetime.now(CHINA))
    except LetterError as error:
        return _form(request, account, session, values, str(error), 400)
    letters = state.store.letters
    if form.get("confirm") != "yes":
        # The receipts the preview lists are the ones sent: a sector's list may grow meanwhile.
        values["receipts"] = "\n".join(m["receipt"] for m in matters)
        # One draft, one letter: a second click or a resent form opens the letter already sent.
        values["draft"] = secrets.token_urlsafe(12)
        number = labeller(rules.letter_number, today.year)(letters.next_number("letter", today.year))
        return render(request, "letter_preview.html", {
            "account": account, "session": session, "letter": {**fields, "number": number}, "values": values,
            "sent_on_text": chinese_date(today), "columns": MATTER_COLUMNS,
        })
    draft = str(form.get("draft", ""))[:32]
    async with state.office_writes:
        issued = next((v for v in await off_loop(request, letters.all) if draft and v.get("draft") == draft), None)
        if issued is None:
            issued = await to_thread.run_sync(letters.issue, "letter", today.year, {**fields, "draft": draft},
                                              labeller(rules.letter_number, today.year))
    return RedirectResponse(f"/office/letters/{issued['id']}?done=sent", status_code=303)
