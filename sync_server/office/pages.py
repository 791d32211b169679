"""What every office page under /office/ shares: plain server-rendered HTML in Chinese,
and the rules each page keeps.

Nothing is visible without logging in. Department users see only the matters dispatched
to their department, as lead unit or 协办 (any other record is a 404, even by URL; see
`dispatch.visibility`); viewers see only reports. Phone numbers are shown to office staff alone, and only where the
citizen consented. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from urllib.parse import urlencode

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.dispatch.visibility import sees_matter
from sync_server.office.auth import COOKIE
from sync_server.office.records import CHINA
from sync_server.office.sealed import opened_rows, published_keys_notice
from sync_server.store.accounts import in_registry
from sync_server.web.requests import read_form

__all__ = ["Denied", "full_rows", "guarded", "local_today", "message_page", "off_loop", "readable_department",
           "readable_scope", "readable_sectors", "render",
           "row_or_404", "unlocked_keys", "visible_row"]


async def off_loop(request: Request, function, *args):
    # Office work runs in one worker thread at a time (`office_threads`, made in the
    # lifespan): Python threads share one interpreter lock, and every extra busy thread
    # slows the event loop that answers the tablets. Staff queue behind each other instead.
    return await to_thread.run_sync(function, *args, limiter=request.app.state.office_threads)


class Denied(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def render(request: Request, template: str, context: dict, status: int = 200) -> Response:
    if context.get("account") and "session" not in context:
        current = request.app.state.sessions.current(request)
        context["session"] = current[1] if current else None
    if context.get("account"):
        context.setdefault("keys_notice", published_keys_notice(request.app.state))
    response = request.app.state.templates.TemplateResponse(request, f"office/{template}", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: Request, roles=("staff", "department", "viewer")):
    current = request.app.state.sessions.current(request)
    if current is None:
        raise Denied(RedirectResponse("/office/login?" + urlencode({"next": request.url.path}), status_code=303))
    account, session = current
    # Departments are the registry's: an older account's department name becomes its id.
    account = in_registry(account, request.app.state.stations.registry)
    if account.role not in roles:
        raise Denied(message_page(request, account, "您的账号没有查看此页的权限。", 403))
    return account, session


def guarded(roles=("staff", "department", "viewer")):
    def wrap(handler):
        async def endpoint(request: Request) -> Response:
            try:
                account, session = _page(request, roles)
                readside = request.app.state.readside
                if not readside.ready():
                    await to_thread.run_sync(readside.wait_ready)
                if request.method == "POST":
                    form = await read_form(request)
                    if not request.app.state.sessions.csrf_ok(session, form.get("csrf")):
                        return render(request, "message.html",
                                      {"account": account, "message": "页面已过期，请刷新后重试。"}, 403)
                    return await handler(request, account, session, form)
                return await handler(request, account, session)
            except Denied as denied:
                return denied.response
        return endpoint
    return wrap


def readable_sectors(account) -> frozenset[str] | None:
    """The sectors this account may read every record of; None means every sector. A
    department reads none by sector: only what `readable_department` adds."""
    return None if account.role in ("staff", "viewer") else frozenset()


def readable_department(account) -> str | None:
    """For a department account, the department whose dispatched matters it reads (""
    when its department is unmapped: nothing); None for every other account."""
    return (account.department or "") if account.role == "department" else None


def readable_scope(account) -> tuple[frozenset[str] | None, str | None]:
    """What the read side's `page` and `report_sets` take for this account."""
    return readable_sectors(account), readable_department(account)


def unlocked_keys(request: Request):
    return request.app.state.session_keys.get(request.cookies.get(COOKIE))


def full_rows(request: Request, account, rows, with_phone: bool = False) -> list:
    """The rows with their full stored records, sealed words opened for this session."""
    state = request.app.state
    full = state.inbox.get_many([r.id for r in rows])
    rows = [dataclasses.replace(r, record={**r.record, **full[r.id]}) if r.id in full else r for r in rows]
    return opened_rows(state, account, unlocked_keys(request), rows, with_phone)


def local_today():
    return datetime.now(CHINA).date()


def message_page(request: Request, account, message: str, status: int) -> Response:
    return render(request, "message.html", {"account": account, "message": message}, status)


def visible_row(request: Request, account, submission_id: str):
    state = request.app.state
    row = state.readside.row(submission_id, state.stations.registry, local_today())
    if row is None or not sees_matter(account, row.triage):
        return None
    return row


def row_or_404(request: Request, account, submission_id: str):
    row = visible_row(request, account, submission_id)
    if row is None:
        raise Denied(message_page(request, account, "没有找到这条记录。", 404))
    return row
