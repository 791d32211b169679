"""The office pages under /office/: log-in, the inbox list, a record's page with its
lifecycle actions, and the meeting reports. Plain server-rendered HTML in Chinese.

Nothing is visible without logging in. Department users see only the records of the
sectors they lead or help with (another sector's record is a 404, even by URL); viewers
see only reports. Phone numbers are shown to office staff alone, and only where the
citizen consented. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import math
import secrets
from datetime import date, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..requests import client_address, read_form
from ..triage import ACTIONS, DEPARTMENT_ACTIONS, OUTCOMES, SATISFACTION, STATUSES, TRACKS, TriageError, apply, now_utc
from .auth import COOKIE
from .records import CHINA, Filters, join, select, visible_to
from .reports import monthly, to_csv, to_html, to_xlsx, weekly

__all__ = ["routes"]

LOGIN_COOKIE = "mq_login"


class Denied(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _render(request: Request, template: str, context: dict, status: int = 200) -> Response:
    if context.get("account") and "session" not in context:
        current = request.app.state.sessions.current(request)
        context["session"] = current[1] if current else None
    response = request.app.state.templates.TemplateResponse(request, f"office/{template}", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: Request, roles=("staff", "department", "viewer")):
    current = request.app.state.sessions.current(request)
    if current is None:
        raise Denied(RedirectResponse("/office/login?" + urlencode({"next": request.url.path}), status_code=303))
    account, session = current
    if account.role not in roles:
        raise Denied(_render(request, "message.html", {"account": account, "message": "您的账号没有查看此页的权限。"}, 403))
    return account, session


def _guarded(roles=("staff", "department", "viewer")):
    def wrap(handler):
        async def endpoint(request: Request) -> Response:
            try:
                account, session = _page(request, roles)
                if request.method == "POST":
                    form = await read_form(request)
                    if not request.app.state.sessions.csrf_ok(session, form.get("csrf")):
                        return _render(request, "message.html",
                                       {"account": account, "message": "页面已过期，请刷新后重试。"}, 403)
                    return await handler(request, account, session, form)
                return await handler(request, account, session)
            except Denied as denied:
                return denied.response
        return endpoint
    return wrap


def _rows(request: Request, account):
    state = request.app.state
    today = datetime.now(CHINA).date()
    rows = join(state.intake.inbox.records(), state.triage.all(), state.stations.registry, today)
    return visible_to(account, rows)


def _row(request: Request, account, submission_id: str):
    for row in _rows(request, account):
        if row.id == submission_id:
            return row
    raise Denied(_render(request, "message.html", {"account": account, "message": "没有找到这条记录。"}, 404))


async def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", {"token": token, "next": request.query_params.get("next", "")})
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/office")
    return response


async def login(request: Request) -> Response:
    state = request.app.state
    form = await read_form(request)
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:256]
    address = client_address(request)
    sent, expected = form.get("token", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(str(sent), expected):
        return _render(request, "login.html", {"error": "页面已过期，请重新登录。", "token": expected}, 403)
    wait = state.login_throttle.wait(name, address)
    if wait > 0:
        later = f"{math.ceil(wait)} 秒" if wait < 60 else f"{math.ceil(wait / 60)} 分钟"
        return _render(request, "login.html", {"error": f"登录失败次数过多，请 {later}后再试。", "token": expected}, 429)
    account = state.accounts.authenticate(name, password)
    if account is None:
        state.login_throttle.failed(name, address)
        return _render(request, "login.html", {"error": "用户名或密码不正确。", "token": expected}, 401)
    state.login_throttle.succeeded(name, address)
    target = str(form.get("next", ""))
    if not target.startswith("/office/") or target.startswith("//"):
        target = "/office/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, state.sessions.start(account), httponly=True, samesite="strict", path="/office",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    return response


@_guarded()
async def logout(request: Request, account, session, form) -> Response:
    request.app.state.sessions.end(request.cookies.get(COOKIE))
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE, path="/office")
    return response


@_guarded()
async def home(request: Request, account, session) -> Response:
    return RedirectResponse("/office/reports" if account.role == "viewer" else "/office/records", status_code=303)


@_guarded(roles=("staff", "department"))
async def record_list(request: Request, account, session) -> Response:
    filters = Filters.from_query(request.query_params)
    rows = _rows(request, account)
    page_rows, pages = select(rows, filters)
    registry = request.app.state.stations.registry
    sectors = [s for s in registry.sectors if account.sees_sector(s.id)]
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return _render(request, "records.html", {
        "account": account, "session": session, "rows": page_rows, "filters": filters, "pages": pages,
        "statuses": STATUSES, "sectors": sectors, "query": urlencode(query), "satisfaction": SATISFACTION,
        "stations": [s for s in registry.stations if account.sees_sector(s.sector)],
    })


@_guarded(roles=("staff", "department"))
async def record_page(request: Request, account, session) -> Response:
    row = _row(request, account, request.path_params["id"])
    merged = [r for r in _rows(request, account) if r.id in row.triage["merged"]]
    allowed = [a for a, (starts, _) in ACTIONS.items() if row.triage["status"] in starts
               and (account.role == "staff" or a in DEPARTMENT_ACTIONS)]
    return _render(request, "record.html", {
        "account": account, "session": session, "row": row, "merged": merged, "allowed": allowed,
        "show_phone": account.role == "staff" and row.record.get("consent") and row.record.get("phone"),
        "statuses": STATUSES, "tracks": TRACKS, "outcomes": {k: v for k, v in OUTCOMES.items() if k != "merged"},
        "all_outcomes": OUTCOMES,
        "satisfaction": SATISFACTION, "actions": ACTIONS, "error": request.query_params.get("error", ""),
        "lead_default": request.app.state.stations.registry.sector(row.sector_id).lead if row.sector_id else "",
    })


@_guarded(roles=("staff", "department"))
async def record_action(request: Request, account, session, form) -> Response:
    state = request.app.state
    row = _row(request, account, request.path_params["id"])
    action = str(form.get("action", ""))
    fields = {k: str(v) for k, v in form.items()}
    back = f"/office/records/{row.id}"
    if account.role != "staff" and action not in DEPARTMENT_ACTIONS:
        return RedirectResponse(back + "?" + urlencode({"error": "您的账号不能执行这个操作。"}), status_code=303)
    now = now_utc()
    try:
        if action == "merge":
            target = _merge_target(request, account, row, fields)
            fields["into"] = target.id
        entry = apply(row.triage, action, fields, account.name, now)
    except TriageError as error:
        return RedirectResponse(back + "?" + urlencode({"error": str(error)}), status_code=303)
    if action == "merge":
        history = {"at": entry["updated_at"], "by": account.name, "action": "merged_from", "from": target.triage["status"],
                   "to": target.triage["status"], "note": f"合并了回执码 {row.record['receipt']} 的记录"}
        state.triage.put_many({target.id: {**target.triage, "merged": [*target.triage["merged"], row.id],
                                           "history": [*target.triage["history"], history]},
                               row.id: entry})
    else:
        state.triage.put(row.id, entry)
    return RedirectResponse(back, status_code=303)


def _merge_target(request, account, row, fields):
    from ..receipt import normalize

    code = normalize(fields.get("into", ""))
    target_id = request.app.state.intake.inbox.receipt_owner(code) if code else None
    if target_id is None or target_id == row.id:
        raise TriageError("请填写另一条记录的回执码。")
    target = _row(request, account, target_id)
    if target.triage["outcome"] == "merged":
        raise TriageError("不能合并到一条已被合并的记录。")
    return target


@_guarded()
async def report_index(request: Request, account, session) -> Response:
    today = datetime.now(CHINA).date()
    return _render(request, "reports.html", {"account": account, "session": session, "today": today.isoformat(),
                                             "month": today.strftime("%Y-%m")})


@_guarded()
async def report(request: Request, account, session) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("weekly", "monthly"):
        return _render(request, "message.html", {"account": account, "message": "没有这种报表。"}, 404)
    params = request.query_params
    rows = _rows(request, account) if account.role != "viewer" else _all_rows(request)
    with_phone = params.get("phone") == "1" and account.role == "staff"
    try:
        if kind == "weekly":
            built = weekly(rows, date.fromisoformat(params.get("date") or datetime.now(CHINA).date().isoformat()),
                           with_phone=with_phone)
        else:
            year, month = (params.get("month") or datetime.now(CHINA).strftime("%Y-%m")).split("-")
            built = monthly(rows, int(year), int(month))
    except ValueError:
        return _render(request, "message.html", {"account": account, "message": "日期格式不正确。"}, 400)
    fmt = params.get("format", "html")
    name = f"{kind}-{built.period[:10]}"
    if fmt == "csv":
        return Response(to_csv(built), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"})
    if fmt == "xlsx":
        return Response(to_xlsx(built), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', "Cache-Control": "no-store"})
    return _render(request, "report.html", {"account": account, "session": session, "report": built,
                                            "body": to_html(built), "kind": kind,
                                            "query": urlencode({k: v for k, v in params.items() if k != "format"})})


def _all_rows(request):
    # Viewers read reports over every sector; reports hold no text and no phone.
    state = request.app.state
    return join(state.intake.inbox.records(), state.triage.all(), state.stations.registry, datetime.now(CHINA).date())


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/records", record_list, methods=["GET"]),
    Route("/records/{id}", record_page, methods=["GET"]),
    Route("/records/{id}/action", record_action, methods=["POST"]),
    Route("/reports", report_index, methods=["GET"]),
    Route("/reports/{kind:str}", report, methods=["GET"]),
]
