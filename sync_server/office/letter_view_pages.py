"""One letter (/office/letters/{id}): its state, matters and answer; the printable A4
page; the Word file; recording the department's answer (by staff, or by the department's
own account); withdrawing it (staff: the number stays taken). 督办单 are letters of kind
"supervision" and share these pages."""

from __future__ import annotations

import re
from datetime import date, datetime

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.letters.content import LetterError, answer_fields, void_fields
from sync_server.letters.document import MATTER_COLUMNS, letter_docx, supervision_docx
from sync_server.letters.numbering import KINDS, chinese_date
from sync_server.letters.tracking import STATES, state
from sync_server.office.letter_matters import as_read_by, matters_closed
from sync_server.office.pages import Denied, guarded, local_today, message_page, off_loop, render, visible_row
from sync_server.office.records import CHINA
from sync_server.office.spreadsheet import content_disposition

__all__ = ["letter_answer", "letter_docx_download", "letter_page", "letter_print", "letter_void"]

# After an action, `?done=CODE` picks the sentence shown: never words from the URL.
DONE = {"sent": "已发出。", "answered": "已登记答复。", "voided": "已作废，文号不再使用。", "supervised": "已督办，督办单已编号。"}
_ID = re.compile(r"[a-z_]+-\d{4}-\d{1,9}\Z", re.ASCII)


def _letter_or_404(request: Request, account) -> dict:
    letter_id = request.path_params["id"]
    letter = request.app.state.store.letters.get(letter_id) if _ID.match(letter_id) else None
    if letter is not None and account.role != "staff":
        mine = account.department and letter["department"] == account.department
        letter = as_read_by(request, account, letter) if mine else None
    if letter is None:
        raise Denied(message_page(request, account, "没有找到这份函。", 404))
    return letter


def _context(request: Request, account, session, letter: dict, error: str = "") -> dict:
    today = local_today()
    # Each matter links to its record where this account may open it.
    links = {m["id"] for m in letter["rows"] if visible_row(request, account, m["id"]) is not None}
    return {"account": account, "session": session, "letter": letter, "state": state(letter, today, matters_closed(request, letter)), "states": STATES,
            "kind_label": KINDS[letter["kind"]], "columns": MATTER_COLUMNS, "links": links, "error": error,
            "done": DONE.get(request.query_params.get("done", ""), ""), "today": today.isoformat(),
            "sent_on_text": chinese_date(date.fromisoformat(letter["sent_on"]))}


@guarded(roles=("staff", "department"))
async def letter_page(request: Request, account, session) -> Response:
    letter = _letter_or_404(request, account)
    return render(request, "letter.html", _context(request, account, session, letter))


@guarded(roles=("staff", "department"))
async def letter_print(request: Request, account, session) -> Response:
    """The letter alone on an A4 page, laid out as the Word file (GB/T 9704)."""
    letter = _letter_or_404(request, account)
    template = "supervision_print.html" if letter["kind"] == "supervision" else "letter_print.html"
    return render(request, template, _context(request, account, session, letter))


@guarded(roles=("staff", "department"))
async def letter_docx_download(request: Request, account, session) -> Response:
    letter = _letter_or_404(request, account)
    build = supervision_docx if letter["kind"] == "supervision" else letter_docx
    body = await off_loop(request, build, letter)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": content_disposition(f"{letter['number']}.docx", f"{letter['id']}.docx"),
                             "Cache-Control": "no-store"})


async def _change(request: Request, account, session, letter_id: str, make) -> Response:
    state = request.app.state
    async with state.office_writes:  # one change at a time: each reads the letter it changes
        letter = _letter_or_404(request, account)
        try:
            changes = make(letter)
        except LetterError as error:
            return render(request, "letter.html", _context(request, account, session, letter, str(error)), 400)
        await to_thread.run_sync(state.store.letters.update, letter_id, changes)
    return None


@guarded(roles=("staff", "department"))
async def letter_answer(request: Request, account, session, form) -> Response:
    """The department's answer, recorded by staff from the paper, or by the department itself."""
    letter_id = request.path_params["id"]
    now = datetime.now(CHINA)

    def make(letter):
        return answer_fields(letter, str(form.get("answer", "")), str(form.get("on", "")), local_today(), account.name,
                             account.display, now)

    refused = await _change(request, account, session, letter_id, make)
    return refused or RedirectResponse(f"/office/letters/{letter_id}?done=answered", status_code=303)


@guarded(roles=("staff",))
async def letter_void(request: Request, account, session, form) -> Response:
    letter_id = request.path_params["id"]
    now = datetime.now(CHINA)

    def make(letter):
        if letter.get("voided"):
            raise LetterError("voided")
        return void_fields(letter, str(form.get("reason", "")), account.name, account.display, now)

    refused = await _change(request, account, session, letter_id, make)
    return refused or RedirectResponse(f"/office/letters/{letter_id}?done=voided", status_code=303)
