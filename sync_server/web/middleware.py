"""HTTP plumbing around the routes: static site caching, security headers, the
same-origin rule for uploads, an access log that never records what people wrote, and
the cap on requests in flight."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.filestamp import file_stamp
from sync_server.web.errors import error_response

__all__ = ["SiteFiles", "SecurityHeaders", "SameOrigin", "AccessLog", "ConcurrencyCap", "printable", "step_aside"]

_HASHED = re.compile(r"\.[0-9a-f]{8,}\.min\.(?:js|css)\Z")
log = logging.getLogger("minqing.access")


class SiteFiles(StaticFiles):
    """The built site: immutable caching for hashed assets, revalidation for the rest."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = str(full_path)
        if _HASHED.search(name):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            # The service worker above all must never be stale, or a republish is missed.
            response.headers["Cache-Control"] = "no-cache"
        if name.endswith("sw.js"):
            response.headers["Service-Worker-Allowed"] = "/"
        return response


class _ScriptHashes:
    """Inline-script hashes the build wrote to csp.json; reread when the site is republished."""

    def __init__(self, path: Path) -> None:
        self.path, self._stamp, self._value = path, None, ""

    def value(self) -> str:
        stamp = file_stamp(self.path)
        if stamp is None:
            return ""
        if stamp != self._stamp:
            try:
                hashes = json.loads(self.path.read_text("utf-8")).get("script-src", [])
            except (OSError, ValueError):
                hashes = []
            self._stamp, self._value = stamp, " ".join(h for h in hashes if re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", h))
        return self._value


class SecurityHeaders:
    def __init__(self, app: ASGIApp, site_dir: Path) -> None:
        self.app = app
        self.hashes = _ScriptHashes(Path(site_dir) / "csp.json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (
            "default-src 'self'; "
            f"script-src 'self' {self.hashes.value()}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The policy governs documents and workers; on an image or a stylesheet
                # it is only bytes on a weak link.
                kind = headers.get("content-type", "")
                if kind.startswith(("text/html", "application/json")) or scope["path"].endswith("sw.js"):
                    headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                # same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null`.
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


FOREIGN_OFFICE_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>操作未执行</title>'
    "<p>这次提交来自其他网站，没有执行。请在本系统的页面上重新操作。</p>"
    '<p><a href="/office/">返回办公页面</a></p></html>'
)


class SameOrigin:
    """Refuse API and office writes from other origins unless the settings list them.

    A browser sends `Origin` on every cross-site POST, even a plain form; a request
    without it comes from a program and is judged by the API's own rules.
    """

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...]) -> None:
        self.app, self.allowed = app, {o.rstrip("/") for o in allowed_origins}

    def _foreign(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            return False
        # "null" is a sandboxed frame or a file: never a page of ours.
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        return origin == "null" or (origin != own and origin not in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writes = scope["type"] == "http" and scope["method"] == "POST"
        if writes and scope["path"].startswith(("/api/", "/office/")) and self._foreign(scope):
            if scope["path"].startswith("/office/"):
                # Office staff read a Chinese page, never the citizens' JSON (this layer
                # sits outside the app's exception handlers, so it answers itself).
                response = HTMLResponse(FOREIGN_OFFICE_PAGE, status_code=403, headers={"Cache-Control": "no-store"})
            else:
                response = error_response(403, "cross_origin", "不接受来自其他网站的提交。")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class AccessLog:
    """Method, path, status and time only: no query string, no body, no address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            took = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.0fms", printable(scope["method"]), printable(scope["path"]), status[0], took)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]|[\ud800-\udfff]")


def printable(text: str) -> str:
    """Text safe for one log line: control characters (and the backslash) as escapes,
    so a `%0a` in a path cannot start a forged line."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


BUSY_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>服务器正忙</title>'
    "<p>服务器正忙，请稍后刷新重试。</p></html>"
)


class _Place:
    """One request's place under the cap, given back once: by `step_aside`, or at its end."""

    def __init__(self, cap: ConcurrencyCap) -> None:
        self.cap, self.held = cap, True
        cap.active += 1

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.cap.active -= 1


_PLACE = "minqing.concurrency_place"


class ConcurrencyCap:
    """At most `limit` requests in flight; past it a 503 at once (the JSON shape under
    /api/, a Chinese page elsewhere) instead of a queue that grows until memory runs out.
    Idle connections are not counted: the header and keep-alive timeouts deal with them.
    Nor is a request that stepped aside to wait in a bounded queue of its own (a log-in
    waiting for the password hashing): see `step_aside`."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.active = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            headers = {"Retry-After": "1"}
            if scope["path"].startswith("/api/"):
                response = error_response(503, "busy", "服务器正忙，请稍后再试。", headers)
            else:
                response = HTMLResponse(BUSY_PAGE, status_code=503, headers=headers)
            await response(scope, receive, send)
            return
        place = _Place(self)
        try:
            await self.app({**scope, _PLACE: place}, receive, send)
        finally:
            place.give_back()


def step_aside(scope: Scope) -> None:
    """This request no longer counts under `ConcurrencyCap`: it has read its body and
    now waits in a queue with a bound of its own, where its waiting must not take the
    slots that uploads need. Call it only from such a queue."""
    place = scope.get(_PLACE)
    if place is not None:
        place.give_back()
