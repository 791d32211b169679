"""The app factory: `create_app(settings)` builds the whole server, with no side effects
at import. The inbox is opened in the lifespan, taking the single-writer lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import anyio
from anyio import to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from sync_server.dispatch.legacy import mapped_leads
from sync_server.intake import api, formpage
from sync_server.intake.writer import Intake
from sync_server.office import views as office
from sync_server.office.auth import LoginThrottle, Sessions
from sync_server.office.department_copies import DepartmentCopier, department_keys_of
from sync_server.office.device_cookies import DeviceCookies
from sync_server.office.password_checks import PasswordChecks
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.records import CHINA
from sync_server.office.report_cache import ReportCache
from sync_server.office.sealed_search import OpenedWords
from sync_server.public import pages as public_pages
from sync_server.public.index import PublicIndex
from sync_server.sealing.keyring import Keyring
from sync_server.sealing.quickopen import QuickCopies
from sync_server.sealing.unlock import SessionKeys
from sync_server.settings import Settings
from sync_server.stations import StationBook
from sync_server.store import Store, Submissions, TriageLog, open_store
from sync_server.store.retention import run_retention
from sync_server.web.errors import ApiError, client_gone, disk_full, error_response, where_it_failed
from sync_server.web.middleware import AccessLog, ConcurrencyCap, SameOrigin, SecurityHeaders, SiteFiles, printable
from sync_server.web.proxy import ForwardedFor
from sync_server.web.ratelimit import RateLimiter

__all__ = ["create_app"]

log = logging.getLogger("minqing")

NOT_BUILT = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>网站尚未生成</title>'
    "<p>网站尚未生成。请先运行 <code>minqing build</code>。</p></html>"
)


def _china_time(iso: str) -> str:
    # The office reads times on Beijing time, whatever offset a device sent.
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError):  # the calendar's edge, from an older data folder
        return iso


def templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("sync_server", "templates"), autoescape=select_autoescape(default=True))
    env.filters["china_time"] = _china_time
    return Jinja2Templates(env=env)


def _load_readside(readside: MemoryReadSide, inbox: Submissions, triage: TriageLog, words: OpenedWords,
                   stations=None, public: PublicIndex | None = None) -> None:
    """Build the office index beside the server: the inbox opened from its segment
    summaries, so the records are read here, once, while uploads are already answered
    (and sealed search notes which records are sealed to which key as they pass). The
    triage log is read here too, first: nothing an upload does needs it. Matters
    dispatched to a free-text 牵头部门 by an older version are mapped to their registry
    department here, before any page reads them (see `dispatch.legacy`)."""
    try:
        said = len(triage.problems)  # a legacy file's, said at start
        with no_cyclic_gc():
            entries = triage.all()
        _say(triage.problems[said:])
        _map_leads(triage, entries, stations)
    except Exception as exc:  # noqa: BLE001 - as below: uploads go on, office pages say so
        readside.fail(exc)  # never leave them waiting for an index nobody will build
        log.error("the triage log could not be read; office pages will show an error: %s", where_it_failed(exc))
        return
    try:
        readside.load(words.watch(inbox.records()), entries)
    except Exception as exc:  # noqa: BLE001 - the uploads go on without the office index
        log.error("the office index could not be built; office pages will show an error: %s", where_it_failed(exc))
        return
    if public is not None:  # after the office index: it names the post of each verdict
        try:
            public.load(entries)
        except Exception as exc:  # noqa: BLE001 - the public list stays "starting"; the rest runs on
            log.error("the public list could not be built: %s", where_it_failed(exc))


def _map_leads(triage: TriageLog, entries: dict, stations) -> None:
    mapped = mapped_leads(entries, stations.registry) if stations is not None else {}
    if not mapped:
        return
    try:
        entries.update(triage.put_many(mapped))
    except Exception as exc:  # noqa: BLE001 - the office runs on; the next start tries again
        log.error("matters dispatched by name could not be mapped to departments: %s", where_it_failed(exc))
        return
    flagged = sum(1 for e in mapped.values() if e.get("lead_unmapped"))
    _say([f"{len(mapped) - flagged} matters dispatched to a department by name were mapped to its id"
          + (f"; {flagged} name no department of the registry and are flagged for staff" if flagged else "")])


RETENTION_EVERY_S = 24 * 3600


async def _daily_retention(app: Starlette, clock: Callable[[], datetime]) -> None:
    """Retention by the server itself (it holds the writer lock), off the event loop;
    the first run waits for the office index, so a start does one full read at a time."""
    with contextlib.suppress(RuntimeError):  # an index that failed to load does not stop retention
        await to_thread.run_sync(app.state.readside.wait_ready)
    while True:
        try:
            removed = await to_thread.run_sync(
                run_retention, app.state.inbox, app.state.triage, app.state.settings.retention, clock()
            )
            log.info("retention: removed the phone number from %d records", removed)
        except Exception as exc:  # noqa: BLE001 - a failed run must not stop the next one
            log.error("retention failed; it runs again in a day: %s", where_it_failed(exc))
        app.state.retention_runs += 1
        await asyncio.sleep(RETENTION_EVERY_S)


KEY_EXPIRY_EVERY_S = 60


async def _forget_expired_keys(app: Starlette) -> None:
    """An expired session's keys, and the sealed words opened with them, go within a
    minute even when nobody comes back to the office; so do those of an account disabled
    or given a new password meanwhile."""
    while True:
        await asyncio.sleep(KEY_EXPIRY_EVERY_S)
        try:
            # On the loop, as every request's own check is: the session tables are the loop's.
            app.state.sessions.sweep()
        except Exception as exc:  # noqa: BLE001 - a damaged accounts file must not stop the expiry below
            log.error("the session sweep failed: %s", where_it_failed(exc))
        try:
            app.state.session_keys.forget_expired()
        except Exception as exc:  # noqa: BLE001 - one failed sweep must not end the next ones
            log.error("forgetting expired keys failed: %s", where_it_failed(exc))


def _say(problems: list[str]) -> None:
    for problem in problems:
        print(f"minqing: {problem}.", file=sys.stderr, flush=True)


def create_app(  # noqa: C901 - the factory wires every part in one place
    settings: Settings | None = None, store: Store | None = None, clock: Callable[[], datetime] | None = None
) -> Starlette:
    settings = settings or Settings()
    clock = clock or (lambda: datetime.now(timezone.utc))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # The inbox opens from its segments' summaries (a few MB at 100,000 records); the
        # office's index reads the records themselves in the background (see below).
        app.state.readside = readside = MemoryReadSide()
        # Search over sealed words notes which records are sealed to which key as the
        # inbox reads them; it opens them only for sessions that unlocked those keys.
        quick = QuickCopies(settings.data_dir)
        quick.remove_old_layouts()  # copies grouped by upload (see `quickopen`)
        words = OpenedWords(lambda ids: app.state.inbox.get_many(ids), quick)
        app.state.opened_words = words
        if store is None:
            with no_cyclic_gc():
                # The triage log is read beside the server, below: uploads do not need it.
                opened = open_store(settings.data_dir, segment_size=settings.segment_size, load_triage=False)
        app.state.store = store if store is not None else opened
        # Beside the intake, not inside it: handlers that read records need no intake.
        app.state.inbox = app.state.store.submissions
        app.state.intake = Intake(app.state.inbox, app.state.stations, settings.data_dir)
        app.state.triage = app.state.store.triage
        app.state.accounts = app.state.store.accounts
        # Sector keys unlocked at log-in live beside the session and end with it.
        keyring = Keyring(settings.data_dir)
        app.state.session_keys = SessionKeys(keyring, on_unlock=lambda t, u: (words.session_unlocked(t, u),
                                                                              copier.session_unlocked(t, u)),
                                             on_forget=words.session_ended)
        # A dispatched sealed matter's words follow it to its departments' keys.
        copier = DepartmentCopier(app.state.store.department_copies, app.state.triage, app.state.inbox.get,
                                  department_keys_of(keyring), app.state.session_keys.held_key)
        app.state.department_copier = copier
        # The public 你说我办 list follows every durable triage write, whoever wrote it.
        def sector_of(station_id):
            station = app.state.stations.station(station_id)
            return station.sector if station is not None else None

        app.state.public = public = PublicIndex(readside.station_of, sector_of)

        def triage_written(entries):
            copier.entries_changed(entries)
            public.triage_changed(entries)

        app.state.triage.on_change = triage_written
        app.state.sessions = Sessions(app.state.accounts, on_end=app.state.session_keys.forget)
        app.state.session_keys.clock = app.state.sessions.clock
        _say(app.state.store.problems())  # the triage log's own, once it is read (see `_load_readside`)
        for warning in app.state.inbox.warnings:
            print(f"minqing: warning: {warning}.", file=sys.stderr, flush=True)
        # The office's index is finished beside the server: uploads are answered from the
        # first moment, office pages wait until it is ready. Listening first means a
        # record stored meanwhile is not missed.
        def records_added(records):
            readside.records_added(records)
            words.records_added(records)

        app.state.inbox.on_change = records_added
        loader = threading.Thread(target=_load_readside,
                                  args=(readside, app.state.inbox, app.state.triage, words, app.state.stations,
                                        public),
                                  daemon=True,
                                  name="office-readside")
        loader.start()
        app.state.office_writes = asyncio.Lock()
        app.state.office_threads = anyio.CapacityLimiter(1)
        # One scrypt (128 MiB) at a time: with the office index (about 260 MB at 100,000
        # records) two at once took the peak past 400 MB (547 MB measured when three staff
        # logged in together); a second log-in waits its half second instead, in a queue
        # of its own outside the cap on requests in flight (see `password_checks`).
        app.state.password_checks = PasswordChecks()
        # Signed with a key kept in the data folder: a trusted browser stays trusted
        # across restarts (`device_cookies`).
        app.state.device_cookies = DeviceCookies.of(settings.data_dir)
        app.state.retention_runs = 0
        retention = asyncio.create_task(_daily_retention(app, clock))
        expiry = asyncio.create_task(_forget_expired_keys(app))
        try:
            yield
        finally:
            for task in (retention, expiry):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            words.close()  # the newest minute's quick-open copies (see `sealed_search`)
            app.state.store.close()

    async def api_error(request: Request, exc: ApiError) -> Response:
        # A person whose browser posted a plain form reads a page; a program reads JSON.
        if request.url.path.startswith("/office/"):
            return office_page(request, exc.message, exc.status)
        if "text/html" in request.headers.get("accept", ""):
            return request.app.state.templates.TemplateResponse(
                request, "error.html", {"message": exc.message}, status_code=exc.status, headers=exc.headers
            )
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    def office_page(request: Request, message: str, status: int) -> Response:
        # Office staff read a Chinese office page, never the citizens' JSON.
        response = request.app.state.templates.TemplateResponse(
            request, "office/message.html", {"message": message, "account": None}, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/office/"):
            message = {404: "没有这个页面。", 405: "这个页面不接受该操作。"}.get(exc.status_code, "请求无法处理。")
            return office_page(request, message, exc.status_code)
        if request.url.path.startswith("/api/"):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
            message = {404: "没有这个接口。", 405: "这个接口不接受该请求方法。"}.get(exc.status_code, "请求无法处理。")
            return error_response(exc.status_code, code, message)
        missing = Path(settings.site_dir) / "404.html"
        if exc.status_code == 404 and missing.is_file():
            return HTMLResponse(missing.read_text("utf-8"), status_code=404)
        return HTMLResponse(f"<p>{exc.status_code}</p>", status_code=exc.status_code)

    async def storage_full(request: Request, exc: OSError) -> Response:
        # The intake answers its own 507 (the batch stays on the device); this is every
        # other write: an office action, a log-in that stores something. Any other OSError
        # is a fault like any other.
        if not disk_full(exc):
            raise exc
        log.error("no space left on the disk: %s %s was not done", printable(request.method),
                  printable(request.url.path))
        then = "请联系管理员清理磁盘后再返回重试。" if request.url.path.startswith("/office/") else "请稍后再试。"
        return await api_error(request, ApiError(507, "insufficient_storage", f"服务器存储空间已满，这次操作没有保存。{then}"))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s: %s", printable(request.method), printable(request.url.path),
                  where_it_failed(exc))
        if request.url.path.startswith("/office/"):
            return office_page(request, "服务器出错了，您的操作可能没有保存。请返回重试；如果再次出现，请联系管理员。", 500)
        return error_response(500, "server_error", "服务器出错了，记录仍保存在您的设备上，稍后会自动重试。")

    # CORS only where other origins may post: the API, never the site's own files.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_methods=["POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )
    routes: list = [Mount("/api", routes=[*api.routes, *public_pages.api_routes], middleware=[cors]),
                    Mount("/office", routes=office.routes)]
    if Path(settings.site_dir).is_dir():
        routes.append(Route("/results/", public_pages.results_page, methods=["GET", "HEAD"]))
        # Station pages carry a one-time form token, so the server renders them (formpage).
        routes.append(Route("/s/{station}/", formpage.station_page, methods=["GET", "HEAD"]))
        routes.append(Mount("/", app=SiteFiles(directory=settings.site_dir, html=True)))
    else:
        routes.append(Route("/{path:path}", lambda request: HTMLResponse(NOT_BUILT, status_code=503)))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            # First: every later layer reads the client and scheme that it settles.
            Middleware(ForwardedFor, trusted=settings.trust_forwarded_for),
            Middleware(AccessLog),
            Middleware(ConcurrencyCap, limit=settings.max_concurrent_requests),
            Middleware(SecurityHeaders, site_dir=settings.site_dir),
            Middleware(SameOrigin, allowed_origins=settings.allowed_origins),
            # Spreadsheets are zip files already; office reports arrive compressed from a worker thread.
            Middleware(GZipMiddleware, minimum_size=500, exclude_content_types=(
                *DEFAULT_EXCLUDED_CONTENT_TYPES, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, ClientDisconnect: client_gone,
                            OSError: storage_full, 500: server_error},
    )
    app.state.settings = settings
    app.state.stations = StationBook(settings.registry)
    app.state.templates = templates()
    app.state.report_cache = ReportCache()
    app.state.address_limiter = RateLimiter(settings.address_limit)
    app.state.device_limiter = RateLimiter(settings.device_limit)
    app.state.lookup_limiter = RateLimiter(settings.lookup_limit)
    app.state.login_throttle = LoginThrottle()
    return app
