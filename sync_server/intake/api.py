"""The upload API under `/api/`: batches from the outbox, the no-JavaScript form, the
receipt look-up and a health check. Every error is the JSON shape of `errors`, except
for a browser that asks for HTML (the no-JavaScript form), which reads a Chinese page."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync_server.intake import citizen_api
from sync_server.intake.citizen_api import KEEP_NOTHING
from sync_server.intake.formpage import TOKEN_FIELD, form_submission_id, refused_form_page
from sync_server.intake.health import health
from sync_server.intake.lookup import public_status
from sync_server.intake.receipt import normalize
from sync_server.intake.submission import valid_device_id, valid_kiosk
from sync_server.web.errors import ApiError, JSONAnswer
from sync_server.web.ratelimit import RateLimiter
from sync_server.web.requests import client_address, form_fields, media_type, read_body, read_form
from sync_server.web.strictjson import parse_json

__all__ = ["routes"]

FORM_DEVICE = "web-form"


BATCH_FIELDS = {"device_id", "submissions", "kiosk"}


def _throttle(limiter: RateLimiter, key: str) -> None:
    wait = limiter.take(key)
    if wait:
        raise ApiError(
            429, "rate_limited", "发送太频繁，请稍后再试。", headers={"Retry-After": RateLimiter.retry_after(wait)}
        )


async def submit_batch(request: Request) -> Response:
    state, settings = request.app.state, request.app.state.settings
    if media_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "请以 application/json 格式发送。")
    _throttle(state.address_limiter, client_address(request))
    payload = parse_json(await read_body(request, settings.max_body_bytes))
    if not isinstance(payload, dict) or set(payload) - BATCH_FIELDS:
        raise ApiError(400, "bad_shape", "请求必须是只含 device_id、submissions 和可选 kiosk 的对象。")
    device_id, items, kiosk = payload.get("device_id"), payload.get("submissions"), payload.get("kiosk")
    if not valid_device_id(device_id):
        raise ApiError(400, "bad_shape", "device_id 必须是 1 到 64 个字母、数字、- 或 _。")
    if kiosk is not None and not valid_kiosk(kiosk):
        raise ApiError(400, "bad_shape", "kiosk 必须是 1 到 64 个字母、数字、- 或 _。")
    if not isinstance(items, list):
        raise ApiError(400, "bad_shape", "submissions 必须是数组。")
    if len(items) > settings.max_batch:
        raise ApiError(413, "too_many", f"一次最多发送 {settings.max_batch} 条记录，本次有 {len(items)} 条。")
    # The device id lives only here, in the limiter's memory: it is never stored.
    _throttle(state.device_limiter, device_id)
    results = await state.intake.submit(device_id, items, kiosk=kiosk)
    return JSONAnswer({"ok": True, "results": [r.as_json() for r in results]})


async def submit_form(request: Request) -> Response:
    """The form without JavaScript: same rules, a Chinese page with the receipt."""
    state, settings = request.app.state, request.app.state.settings
    address = client_address(request)
    _throttle(state.address_limiter, address)
    fields = await read_form(request, settings.max_body_bytes)
    now = datetime.now(timezone.utc)
    item = {
        "station_id": fields.get("station_id", ""),
        "created_at": now.isoformat(timespec="seconds"),
        "rating": fields.get("rating") or None,
        "feeling": fields.get("feeling", ""),
        "suggestion": fields.get("suggestion", ""),
        "phone": fields.get("phone") or None,
        "consent": fields.get("consent") in ("yes", "on", "true"),
    }
    # No script made an id: derive one from the page's one-time token (see `formpage`),
    # so a reload of one form is one record and nothing stored depends on the address.
    content = "\x1f".join(str(item[k]) for k in ("station_id", "rating", "feeling", "suggestion", "phone"))
    item["id"] = form_submission_id(settings.data_dir, fields.get(TOKEN_FIELD), content)
    if item["id"] in state.inbox:
        # Off the event loop: a record not in memory is read from its segment on disk.
        item["created_at"] = (await to_thread.run_sync(state.inbox.get, item["id"]))["created_at"]
    [result] = await state.intake.submit(FORM_DEVICE, [item])
    if result.status == "rejected":
        refilled = refused_form_page(settings.site_dir, item["station_id"], fields, result.error or {})
        if refilled is not None:
            return refilled
    station = state.stations.station(item["station_id"])
    office = state.stations.registry.site.office
    context = {"result": result, "station": station, "office": office, "back": _same_site_path(request)}
    status = 400 if result.status == "rejected" else 200
    return state.templates.TemplateResponse(request, "form_result.html", context, status_code=status,
                                            headers=KEEP_NOTHING)


def _same_site_path(request: Request) -> str:
    """Where "back" goes: the referring page's path on this site, or the home page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.headers.get("host") and referer.path.startswith("/"):
        return referer.path
    return "/"


def _live_matter(triage, entry: dict | None) -> dict | None:
    """The triage entry of the matter a merged record now follows. A merge moves the
    duplicates on with it; a chain stored before that rule is followed here, a few
    steps at most and never round a loop."""
    target, seen = None, set()
    while entry and entry.get("merged_into") and entry["merged_into"] not in seen and len(seen) < 8:
        seen.add(entry["merged_into"])
        entry = triage.entry(entry["merged_into"])
        target = entry or target
    return target


def _public_status(state, owner: str) -> dict:
    entry = state.triage.entry(owner)
    return public_status(state.inbox.get(owner), entry, _live_matter(state.triage, entry))


async def lookup_receipt(request: Request) -> Response:
    state = request.app.state
    kind = media_type(request)
    if kind not in ("application/json", "application/x-www-form-urlencoded"):
        raise ApiError(415, "unsupported_media_type", "请以 JSON 或表单格式发送回执码。")
    _throttle(state.lookup_limiter, client_address(request))
    body = await read_body(request, 4096)
    if kind == "application/json":
        payload = parse_json(body)
        raw = payload.get("code") if isinstance(payload, dict) else None
    else:
        raw = form_fields(body).get("code")
    code = normalize(raw) if isinstance(raw, str) else None
    owner = state.inbox.receipt_owner(code) if code else None
    status = None
    if owner:
        # Off the event loop: the record is read from its segment on disk, and the triage
        # log may still be being read just after a start (see `app._load_readside`).
        status = await to_thread.run_sync(_public_status, state, owner)
    if kind == "application/x-www-form-urlencoded":
        # The forms' own ids, made here: a reload of the answer page is the same step,
        # stored once (see `citizen_api`).
        ids = {"verdict_id": str(uuid.uuid4()), "answer_id": str(uuid.uuid4())}
        page = state.templates.TemplateResponse(
            request, "lookup_result.html", {"code": code or (raw or "")[:16], "status": status, **ids},
            status_code=200 if status else 404, headers=KEEP_NOTHING,
        )
        return page
    if status is None:
        raise ApiError(404, "not_found", "没有找到这个回执码，请核对后再试。")
    return JSONResponse({"ok": True, "receipt": code, **status})


routes = [
    Route("/submissions/batch", submit_batch, methods=["POST"]),
    Route("/submissions/form", submit_form, methods=["POST"]),
    Route("/receipts/lookup", lookup_receipt, methods=["POST"]),
    Route("/health", health, methods=["GET"]),
    *citizen_api.routes,
]
