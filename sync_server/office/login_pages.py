"""Logging in and out of the office, and the home page that sends each role on: staff
and departments to the inbox, viewers to the reports."""

from __future__ import annotations

import math
import secrets

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.office.auth import COOKIE
from sync_server.office.pages import guarded, render
from sync_server.web.requests import client_address, read_form

__all__ = ["home", "login", "login_form", "logout"]

LOGIN_COOKIE = "mq_login"


async def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"token": token, "next": request.query_params.get("next", "")})
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/office")
    return response


async def login(request: Request) -> Response:
    state = request.app.state
    form = await read_form(request)
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:256]
    address = client_address(request)
    sent, expected = form.get("token", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(str(sent), expected):
        return render(request, "login.html", {"error": "页面已过期，请重新登录。", "token": expected}, 403)
    wait = state.login_throttle.wait(name, address)
    if wait > 0:
        later = f"{math.ceil(wait)} 秒" if wait < 60 else f"{math.ceil(wait / 60)} 分钟"
        return render(request, "login.html", {"error": f"登录失败次数过多，请 {later}后再试。", "token": expected}, 429)
    # scrypt at the key lock's cost (about a second, 128 MiB): off the event loop, and a
    # few at a time, so a burst of log-ins neither stalls the server nor fills its memory.
    account = await to_thread.run_sync(state.accounts.authenticate, name, password, limiter=state.password_checks)
    if account is None:
        state.login_throttle.failed(name, address)
        return render(request, "login.html", {"error": "用户名或密码不正确。", "token": expected}, 401)
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


@guarded()
async def logout(request: Request, account, session, form) -> Response:
    request.app.state.sessions.end(request.cookies.get(COOKIE))
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE, path="/office")
    return response


@guarded()
async def home(request: Request, account, session) -> Response:
    return RedirectResponse("/office/reports" if account.role == "viewer" else "/office/records", status_code=303)
