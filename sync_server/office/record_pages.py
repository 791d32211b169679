"""The office pages under /office/: log-in, the inbox list, a record's page with its
lifecycle actions, and the meeting reports. Plain server-rendered HTML in Chinese.

Nothing is visible without logging in. Department users see only the records of the
sectors they lead or help with (another sector's record is a 404, even by URL); viewers
see only reports. Phone numbers are shown to office staff alone, and only where the
citizen consented. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sync_server.intake.receipt import normalize
from sync_server.office.auth import COOKIE
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.records import CHINA, LIST_STATUSES, Filters, parse_day, parse_month
from sync_server.office.reports import COLUMN_CLASSES, monthly, needs_words, to_csv, to_xlsx, weekly
from sync_server.office.sealed import opened, opened_rows, sealed_search_note, sealing_notice
from sync_server.office.spreadsheet import content_disposition
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
from sync_server.web.requests import client_address, read_form

__all__ = ["routes"]


async def _off_loop(request: Request, function, *args):
    # Office work runs in one worker thread at a time (`office_threads`, made in the
    # lifespan): Python threads share one interpreter lock, and every extra busy thread
    # slows the event loop that answers the tablets. Staff queue behind each other instead.
    return await to_thread.run_sync(function, *args, limiter=request.app.state.office_threads)

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
        raise Denied(_message(request, account, "您的账号没有查看此页的权限。", 403))
    return account, session


def _guarded(roles=("staff", "department", "viewer")):
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
                        return _render(request, "message.html",
                                       {"account": account, "message": "页面已过期，请刷新后重试。"}, 403)
                    return await handler(request, account, session, form)
                return await handler(request, account, session)
            except Denied as denied:
                return denied.response
        return endpoint
    return wrap


def _scope(account) -> frozenset[str] | None:
    """The sectors this account may read records of; None means every sector."""
    return None if account.role in ("staff", "viewer") else frozenset(account.sectors) if account.role == "department" \
        else frozenset()


def _unlocked(request: Request):
    return request.app.state.session_keys.get(request.cookies.get(COOKIE))


def _opened_rows(request: Request, account, rows, with_phone: bool = False) -> list:
    """The rows with their full stored records, sealed words opened for this session."""
    state = request.app.state
    full = state.inbox.get_many([r.id for r in rows])
    rows = [dataclasses.replace(r, record={**r.record, **full[r.id]}) if r.id in full else r for r in rows]
    return opened_rows(state, account, _unlocked(request), rows, with_phone)


def _today():
    return datetime.now(CHINA).date()


def _message(request: Request, account, message: str, status: int) -> Response:
    return _render(request, "message.html", {"account": account, "message": message}, status)


def _visible_row(request: Request, account, submission_id: str):
    state = request.app.state
    row = state.readside.row(submission_id, state.stations.registry, _today())
    if row is None or not account.sees_sector(row.sector_id):
        return None
    return row


def _row(request: Request, account, submission_id: str):
    row = _visible_row(request, account, submission_id)
    if row is None:
        raise Denied(_message(request, account, "没有找到这条记录。", 404))
    return row


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
    # scrypt at the key lock's cost (about a second, 128 MiB): off the event loop, and a
    # few at a time, so a burst of log-ins neither stalls the server nor fills its memory.
    account = await to_thread.run_sync(state.accounts.authenticate, name, password, limiter=state.password_checks)
    if account is None:
        state.login_throttle.failed(name, address)
        return _render(request, "login.html", {"error": "用户名或密码不正确。", "token": expected}, 401)
    state.login_throttle.succeeded(name, address)
    target = str(form.get("next", ""))
    if not target.startswith("/office/") or target.startswith("//"):
        target = "/office/"
    response = RedirectResponse(target, status_code=303)
    token = state.sessions.start(account)
    # The sector keys this account holds, into this session's memory only (scrypt: about
    # a second, off the event loop). No keys (none made, a viewer): the session works unsealed.
    expires = state.sessions._by_token[token].expires
    await to_thread.run_sync(state.session_keys.unlock, token, account, password, expires,
                             limiter=state.password_checks)
    if token not in state.sessions._by_token:
        # Ended while the keys were being unlocked (or queued to be): nothing would ever end it again.
        state.session_keys.forget(token)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/office",
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
    state = request.app.state
    filters = Filters.from_query(request.query_params)
    registry = state.stations.registry
    unlocked, words = _unlocked(request), state.opened_words

    def find():
        # Sealed words are searched where they were opened for this session's keys.
        matched = words.search(unlocked, account.sees_sector, filters.q) if filters.q else ()
        return state.readside.page(filters, _scope(account), registry, _today(), matched)

    # Off the event loop: a search over many records must never hold up an upload.
    found = await _off_loop(request, find)
    # Only this page's rows are opened: one page costs a few milliseconds of key work.
    rows = await _off_loop(request, _opened_rows, request, account, found.rows)
    sectors = [s for s in registry.sectors if account.sees_sector(s.id)]
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return _render(request, "records.html", {
        "account": account, "session": session, "rows": rows, "filters": filters, "pages": found.pages,
        "page": found.page, "total": found.total,
        "statuses": LIST_STATUSES, "sectors": sectors, "query": urlencode(query), "satisfaction": SATISFACTION,
        "stations": [s for s in registry.stations if account.sees_sector(s.sector)],
        "sealing_notice": sealing_notice(state),
        "sealed_search": sealed_search_note(words.progress(unlocked, account.sees_sector,
                                                           state.intake.sealer.sector_of_kid())),
    })


def _display_names(request: Request, history: list[dict]) -> dict[str, str]:
    accounts = request.app.state.accounts
    names = {}
    for step in history:
        if step["by"] not in names:
            found = accounts.get(step["by"])
            names[step["by"]] = found.display if found else step["by"]
    return names


@_guarded(roles=("staff", "department"))
async def record_page(request: Request, account, session) -> Response:
    state = request.app.state
    row = _row(request, account, request.path_params["id"])
    # The list's summary has no phone: the page reads its one record from disk.
    full = await _off_loop(request, state.inbox.get, row.id)
    if full is not None:
        row = dataclasses.replace(row, record=opened(state, account, _unlocked(request), full,
                                                     with_phone=account.role == "staff"))
    merged = [r for r in (_visible_row(request, account, i) for i in row.triage["merged"]) if r is not None]
    merged = await _off_loop(request, _opened_rows, request, account, merged)
    hidden_merged = len(row.triage["merged"]) - len(merged)
    target = _visible_row(request, account, row.triage["merged_into"]) if row.triage.get("merged_into") else None
    # Records the history names (a duplicate merged here, the record a duplicate moved on
    # to): their receipts where this account may see them.
    named = {step["merged_id"] for step in row.triage["history"] if step.get("merged_id")}
    named -= {r.id for r in merged} | ({target.id} if target else set())
    others = [r for r in (_visible_row(request, account, i) for i in named) if r is not None]
    code = request.query_params.get("error", "")
    return _render(request, "record.html", {
        "account": account, "session": session, "row": row, "merged": merged, "hidden_merged": hidden_merged,
        "target": target, "allowed": allowed_actions(row.triage, account.role),
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


@_guarded(roles=("staff", "department"))
async def record_action(request: Request, account, session, form) -> Response:
    state = request.app.state
    row = _row(request, account, request.path_params["id"])
    action = str(form.get("action", ""))
    fields = {k: str(v) for k, v in form.items() if k != "csrf"}
    if account.role != "staff" and action not in DEPARTMENT_ACTIONS:
        return _back(row.id, "not_your_action")
    async with state.office_writes:  # one action at a time: each reads the entry it changes
        row = _row(request, account, row.id)
        now = now_utc()
        target = None
        try:
            if action == "merge":
                target = _merge_target(request, account, row, fields)
                fields["into"] = target.id
            entry = apply(row.triage, action, fields, account.name, now)
        except TriageError as error:
            return _back(row.id, error.code)
        if action in CONFIRM and fields.get("confirm") != "yes":
            # The second step: a plain form, so it works without JavaScript.
            return _render(request, "confirm.html", {
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
    moved = [r for r in (state.readside.row(i, state.stations.registry, _today()) for i in row.triage["merged"])
             if r is not None]
    status = target.triage["status"]
    joined = [{"at": at, "by": account.name, "action": "merged_from", "from": status, "to": status, "note": "",
               "merged_id": r.id} for r in (row, *moved)]
    changes = {target.id: {**target.triage, "merged": [*target.triage["merged"], row.id, *(r.id for r in moved)],
                           "history": [*target.triage["history"], *joined]},
               row.id: {**entry, "merged": []}}
    for duplicate in moved:
        step = {"at": at, "by": account.name, "action": "merge_moved", "from": duplicate.triage["status"],
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
    target = _visible_row(request, account, target_id) if target_id else None
    if target is None:  # a code cut short or mistyped is not found, whatever it looks like
        raise TriageError("merge_unknown")
    if target.id == row.id:
        raise TriageError("merge_self")
    check_merge_target(target.triage)
    return target


@_guarded()
async def report_index(request: Request, account, session) -> Response:
    today = _today()
    return _render(request, "reports.html", {"account": account, "session": session, "today": today.isoformat(),
                                             "month": today.strftime("%Y-%m"),
                                             "sealing_notice": sealing_notice(request.app.state)})


def _report_rows(request: Request, account, rows: list, with_phone: bool, read: list) -> list:
    """The rows a report lists, with what the read side does not hold: sealed words
    opened for this session, and consented phones when asked for. Only these rows are
    read from disk, and of them only those that need it (most records have no phone).
    Appends to `read` the ids it read: such a report is this session's alone."""
    state = request.app.state
    # A sealed record's summary in the read side has no words and no phone: read it for
    # its words (no summary written) or, when phones are asked for, for its sealed phone.
    wanted = [r.id for r in rows if needs_words(r) or (with_phone and (
        state.readside.may_have_phone(r.id) or not (r.record.get("feeling") or r.record.get("suggestion"))))]
    full = state.inbox.get_many(wanted) if wanted else {}
    read.extend(full)
    rows = [dataclasses.replace(r, record={**r.record, **full[r.id]}) if r.id in full else r for r in rows]
    return opened_rows(state, account, _unlocked(request), rows, with_phone)


def _compressed(body: bytes, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """Compress here, in the worker thread: the gzip middleware would do it on the event loop."""
    if "gzip" in accept_encoding and len(body) > 500:
        return gzip.compress(body, 6), {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return body, {}


def _build_report(state, kind: str, scope, when, with_phone: bool, fmt: str, today: date, prepare=None):
    registry = state.stations.registry
    if kind == "weekly":
        start = when - timedelta(days=when.weekday())
        sets = state.readside.report_sets(scope, start, start + timedelta(days=6), registry, today)
        # The meeting pack quotes the words: `prepare` opens the sealed ones it lists.
        built = weekly(sets, when, with_phone=with_phone, today=today, prepare=prepare)
        name, ascii_name = f"周例会材料-{start.isoformat()}", f"weekly-{start.isoformat()}"
    else:
        year, month = when
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        built = monthly(state.readside.report_sets(scope, first, last, registry, today), year, month)
        name, ascii_name = f"月例会报告-{year}-{month:02d}", f"monthly-{year}-{month:02d}"
    if fmt == "csv":
        return built, to_csv(built), name + ".csv", ascii_name + ".csv"
    if fmt == "xlsx":
        return built, to_xlsx(built), name + ".xlsx", ascii_name + ".xlsx"
    return built, b"", None, None


@_guarded()
async def report(request: Request, account, session) -> Response:
    state = request.app.state
    kind = request.path_params["kind"]
    if kind not in ("weekly", "monthly"):
        return _message(request, account, "没有这种报表。", 404)
    params = request.query_params
    fmt = params.get("format", "html")
    if fmt not in ("html", "csv", "xlsx"):
        return _message(request, account, "没有这种报表格式。", 400)
    with_phone = params.get("phone") == "1" and account.role == "staff"
    if kind == "weekly":
        when = parse_day(params.get("date") or _today().isoformat())
    else:
        when = parse_month(params.get("month") or _today().strftime("%Y-%m"))
    if when is None:
        return _message(request, account, "日期格式不正确，请按 年-月-日（月报为 年-月）填写 2000 至 2100 年间的日期。", 400)
    accept = request.headers.get("accept-encoding", "")
    query = urlencode({k: v for k, v in params.items() if k != "format"})

    def build() -> tuple[bytes, dict[str, str], str | None, str | None]:
        # Reports, spreadsheets, the page around them and their compression are CPU
        # work: all in the office's worker thread, never on the event loop.
        read: list[str] = []
        today = _today()

        def fresh():
            with no_cyclic_gc():  # tens of thousands of small objects made at once
                made = _build_report(state, kind, _scope(account), when, with_phone, fmt, today,
                                     lambda rows: _report_rows(request, account, rows, with_phone, read))
            return made, not with_phone and not read

        if with_phone:
            # Phones are never kept, nor answered from what was kept for a plain request.
            built, body, name, ascii_name = fresh()[0]
        else:
            # The version is read before the build reads anything (see report_cache).
            version = (state.readside.version(), state.stations.registry)
            built, body, name, ascii_name = state.report_cache.get_or_build(
                (kind, when, fmt, _scope(account), today, with_phone), version, fresh)
        if fmt == "html":
            body = state.templates.get_template("office/report.html").render({
                "request": request, "account": account, "session": session, "report": built,
                "column_classes": COLUMN_CLASSES, "kind": kind, "query": query}).encode("utf-8")
        if fmt == "xlsx":  # already a zip
            return body, {}, name, ascii_name
        return *_compressed(body, accept), name, ascii_name

    body, encoding, name, ascii_name = await _off_loop(request, build)
    headers = {"Cache-Control": "no-store", **encoding}
    if fmt == "html":
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
    headers["Content-Disposition"] = content_disposition(name, ascii_name)
    return Response(body, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX, headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
