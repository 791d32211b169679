"""Logging in and out of the office, and the home page that sends each role on: staff
and departments to the inbox, viewers to the reports."""

from __future__ import annotations

import math
import secrets

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sync_server.office.auth import COOKIE
from sync_server.office.device_cookies import DEVICE_SECONDS, cookie_name
from sync_server.office.pages import guarded, render
from sync_server.office.password_checks import PasswordChecksBusy
from sync_server.web.middleware import step_aside
from sync_server.web.requests import client_address, read_form

__all__ = ["home", "login", "login_form", "logout"]

LOGIN_COOKIE = "mq_login"
# Seconds a log-in that found the password checks' queue full is told to wait.
BUSY_RETRY_S = 5


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
    # A browser that logged in as this name before (its device cookie) is throttled by
    # its own failures only and has its own place in the queue: strangers' guesses at
    # the name, or a flood of log-ins, cannot lock its user out.
    device = _trusted_device(request, name)
    # The try is counted here, in one step with the check of the limit, before its
    # password is checked: guesses sent in parallel cannot all slip past the count.
    wait = state.login_throttle.reserve(name, address, device)
    if wait > 0:
        later = f"{math.ceil(wait)} 秒" if wait < 60 else f"{math.ceil(wait / 60)} 分钟"
        return _page(request, f"登录失败次数过多，请 {later}后再试。", expected, 429, wait)
    # The wait for the password hashing is in a bounded queue of its own, outside the
    # cap on requests in flight: a flood of log-ins never takes the uploads' slots.
    step_aside(request.scope)
    try:
        async with state.password_checks.slot(trusted=device is not None):
            return await _check(request, form, expected, name, password, device)
    except PasswordChecksBusy:
        # Still counted against the address and the name: a flood is not free.
        state.login_throttle.found_busy(name, address, device)
        return _page(request, "正在登录的人较多，请稍等几秒后再试。", expected, 503, BUSY_RETRY_S)


def _trusted_device(request: Request, name: str) -> str | None:
    """The device this browser's cookie for `name` names, if the server signed it for
    the account as it is now (not disabled, no password set since)."""
    value = request.cookies.get(cookie_name(name))
    if not value:
        return None
    account = request.app.state.accounts.get(name)
    if account is None or account.disabled:
        return None
    return request.app.state.device_cookies.device(value, name, account.generation)


def _page(request: Request, error: str, token: str, status: int, retry_after: float) -> Response:
    response = render(request, "login.html", {"error": error, "token": token}, status)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


async def _check(request: Request, form: dict[str, str], login_token: str, name: str, password: str,
                 device: str | None) -> Response:
    """Both scrypts of one log-in (the password, then the account's keys), in the one
    hashing slot its caller holds: about a second each, off the event loop."""
    state = request.app.state
    account = await to_thread.run_sync(state.accounts.authenticate, name, password)
    if account is None:
        return render(request, "login.html", {"error": "用户名或密码不正确。", "token": login_token}, 401)
    state.login_throttle.succeeded(name, client_address(request), device)
    target = str(form.get("next", ""))
    if not target.startswith("/office/") or target.startswith("//"):
        target = "/office/"
    response = RedirectResponse(target, status_code=303)
    token = state.sessions.start(account)
    # The sector keys this account holds, into this session's memory only. No keys
    # (none made, a viewer): the session works unsealed.
    expires = state.sessions._by_token[token].expires
    await to_thread.run_sync(state.session_keys.unlock, token, account, password, expires)
    if token not in state.sessions._by_token:
        # Ended while the keys were being unlocked: nothing would ever end it again.
        state.session_keys.forget(token)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/office",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    # A new device cookie at each log-in (a new device, a new expiry): it holds no secret
    # and gives no access, only this browser's standing at the next log-in as this name.
    response.set_cookie(cookie_name(account.name), state.device_cookies.issue(account.name, account.generation),
                        httponly=True, samesite="strict", path="/office",
                        secure=request.url.scheme == "https", max_age=DEVICE_SECONDS)
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
