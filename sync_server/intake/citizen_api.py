"""群众说了算 by receipt: `POST /api/receipts/verdict` (满意 / 基本满意 / 不满意 with an
optional comment) and `POST /api/receipts/answer` (the answer to the office's question).

Each takes JSON (the page's outbox) or a plain form (the look-up page without
JavaScript, which then reads a Chinese page). Each step carries the browser's own id
(`id`): sent twice, it is stored once and the second answer says `duplicate`. A step
is written through the office's own path (`triage_writes.citizen_step`, under the same
lock as an office action, into the triage log). The words are checked by the
submissions' rules (`sync_server.words`) and sealed on arrival to the record's sector
key where the sector has one (`sealing.citizen_words`): the plain text then lives only
in this request's memory.

A refusal never says more than the look-up does: a code unknown, a matter still open,
of an older round, a verdict too late to change. An unknown code costs a look-up from
the address's look-up allowance, so these endpoints are no faster way to guess codes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync_server.intake.receipt import normalize
from sync_server.intake.triage_writes import citizen_step
from sync_server.sealing.citizen_words import seal_words
from sync_server.triage import MESSAGES, SATISFACTION, TriageError
from sync_server.verdicts import is_duplicate, verdict_until
from sync_server.web.errors import ApiError, JSONAnswer, error_response
from sync_server.web.ratelimit import RateLimiter
from sync_server.web.requests import client_address, form_fields, media_type, read_body
from sync_server.web.strictjson import parse_json
from sync_server.words import FORBIDDEN, TEXT_LIMIT, line_breaks_as_lf

# A page that names a receipt code (a result without JavaScript) is kept by no cache: on
# a kiosk tablet, Back or the history would show it to the next citizen.
KEEP_NOTHING = {"Cache-Control": "no-store"}

__all__ = ["BODY_LIMIT", "routes"]

# 2,000 characters as JSON escapes (twelve bytes for a character outside the BMP) or
# percent-encoded in a form take 24 KB. The limit is well past that, so that a paste of
# 10,000 characters hears how long it is (too_long, with the count), not only 413.
BODY_LIMIT = 96 * 1024
_SHAPES = {"verdict": ({"code", "id", "round", "choice"}, {"comment"}),
           "answer": ({"code", "id", "question", "text"}, set())}
# A refusal's HTTP status; every code is a MESSAGES sentence.
_STATUS = {"still_open": 409, "old_round": 409, "too_late": 409, "no_reply_yet": 409, "merged_citizen": 409,
           "answered": 409, "no_question": 409, "not_yet_round": 409, "too_many_changes": 409}
_LABEL = {"verdict": "评价", "answer": "补充"}


def _throttle(limiter: RateLimiter, key: str) -> None:
    wait = limiter.take(key)
    if wait:
        raise ApiError(429, "rate_limited", "发送太频繁，请稍后再试。",
                       headers={"Retry-After": RateLimiter.retry_after(wait)})


def _words(value: Any, label: str, required: bool) -> str:
    """A comment's or an answer's words, by the submissions' rules."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(400, "bad_shape", f"“{label}”必须是文字。")
    if FORBIDDEN.search(value):
        raise ApiError(400, "invalid_text",
                       f"“{label}”含有无法保存的字符（如残缺的表情符号、控制字符或文字方向控制符），请删除后再发送。")
    value = line_breaks_as_lf(value).strip()
    if len(value) > TEXT_LIMIT:
        raise ApiError(400, "too_long", f"“{label}”最多 {TEXT_LIMIT} 个字，现在有 {len(value)} 个字。")
    if required and not value:
        raise ApiError(400, "missing_text", MESSAGES["missing_text"])
    return value


def _fields(action: str, payload: Any, form: bool) -> dict[str, Any]:
    required, optional = _SHAPES[action]
    if not isinstance(payload, dict) or not required <= set(payload) or set(payload) - required - optional:
        names = "、".join(sorted(required)) + (f"（可选 {'、'.join(sorted(optional))}）" if optional else "")
        raise ApiError(400, "bad_shape", f"请求必须是含 {names} 的对象。")
    step_id = payload["id"]
    try:
        if not isinstance(step_id, str) or len(step_id) != 36:
            raise ValueError
        step_id = str(uuid.UUID(step_id))
    except ValueError:
        raise ApiError(400, "bad_shape", "id 必须是浏览器生成的 UUID。") from None
    fields: dict[str, Any] = {"client_id": step_id}
    if action == "verdict":
        round_ = payload["round"]
        if form and isinstance(round_, str) and round_.isascii() and round_.isdigit() and len(round_) < 6:
            round_ = int(round_)
        if not isinstance(round_, int) or isinstance(round_, bool) or not 1 <= round_ < 100000:
            raise ApiError(400, "bad_shape", "round 必须是办理轮次（正整数）。")
        if not isinstance(payload["choice"], str) or payload["choice"] not in SATISFACTION:
            raise ApiError(400, "bad_choice", MESSAGES["bad_choice"])
        fields.update(round=round_, choice=payload["choice"], comment=_words(payload.get("comment"), "评价留言", False))
    else:
        question = payload["question"]
        if not isinstance(question, str) or not 1 <= len(question) <= 16:
            raise ApiError(400, "bad_shape", "question 必须是问题的编号。")
        fields.update(question=question, text=_words(payload["text"], "补充内容", True))
    return fields


def _sealed(state: Any, record: dict[str, Any], action: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The step's fields with its words sealed to the record's sector key, if it has one."""
    name, sealed_name = ("comment", "comment_sealed") if action == "verdict" else ("text", "sealed")
    if not fields[name]:
        return fields
    station = state.stations.station(record["station_id"])
    if station is None and state.intake.sealer.current_kids():
        # A post removed from the registry has no sector, so no key may hold its words,
        # and once there are keys no words may stay plain (as `on_arrival.UnknownStation`).
        raise ApiError(409, "unsealable", "暂时无法保存您写的文字，请不写留言再发送，或稍后再试。")
    key = state.intake.sealer.key_for(station.sector) if station is not None else None
    if key is None:
        return fields
    words = seal_words(record, action, fields["client_id"], fields[name], key)
    return {**{k: v for k, v in fields.items() if k != name}, sealed_name: words}


async def _take(request: Request, action: str) -> Response:
    state = request.app.state
    kind = media_type(request)
    form = kind == "application/x-www-form-urlencoded"
    code, fields = None, {}
    try:
        if kind != "application/json" and not form:
            raise ApiError(415, "unsupported_media_type", "请以 JSON 或表单格式发送。")
        address = client_address(request)
        _throttle(state.address_limiter, address)
        body = await read_body(request, BODY_LIMIT)
        payload = form_fields(body) if form else parse_json(body)
        if form:  # a radio left unticked, a textarea left out: the citizen's slip, said as such
            payload = {"choice": "", "text": "", **payload} if action == "verdict" else {"text": "", **payload}
            payload.pop("choice" if action == "answer" else "text", None)
        raw = payload.get("code") if isinstance(payload, dict) else None
        code = normalize(raw) if isinstance(raw, str) else None
        fields = _fields(action, payload, form)
        owner = state.inbox.receipt_owner(code) if code else None
        if owner is None:
            _throttle(state.lookup_limiter, address)
            raise ApiError(404, "not_found", "没有找到这个回执码，请核对后再试。")
        record = await to_thread.run_sync(state.inbox.get, owner)
        if record is None:  # set aside since the code was indexed (a damaged segment)
            raise ApiError(404, "not_found", "没有找到这个回执码，请核对后再试。")
        known = state.triage.entry(owner)
        if known is not None and is_duplicate(known, fields["client_id"]):
            # A retry of a step already kept is answered before anything else is asked
            # of it (sealing its words needs its post still in the registry).
            entry, status = None, "duplicate"
        else:
            try:
                entry = await citizen_step(request, owner, record["received_at"], action,
                                           _sealed(state, record, action, fields), datetime.now(timezone.utc))
                status = "accepted"
            except TriageError as error:
                if error.code != "duplicate":
                    raise ApiError(_STATUS.get(error.code, 400), error.code, MESSAGES[error.code]) from None
                entry, status = None, "duplicate"
    except ApiError as error:
        if form:
            return _page(request, action, code, None, fields, error)
        return error_response(error.status, error.code, error.message, error.headers)
    if form:
        return _page(request, action, code, status, fields, None, entry)
    return JSONAnswer({"ok": True, "status": status})


def _page(request: Request, action: str, code: str | None, status: str | None, fields: dict[str, Any],
          error: ApiError | None, entry: Any = None) -> Response:
    """The answer a browser without JavaScript reads: what was kept, or why not. It says
    back only what the citizen chose (never the words) and what the look-up shows."""
    summary = None
    if status is not None and action == "verdict":
        verdict = entry.get("verdict") if entry is not None else None
        summary = {"choice": SATISFACTION[fields["choice"]], "commented": bool(fields.get("comment")),
                   "until": verdict_until(verdict).isoformat() if verdict else None}
    context = {"action": action, "label": _LABEL[action], "code": code, "status": status, "summary": summary,
               "error": error}
    headers = {**(error.headers if error is not None and error.headers else {}), **KEEP_NOTHING}
    return request.app.state.templates.TemplateResponse(
        request, "citizen_result.html", context, status_code=error.status if error is not None else 200,
        headers=headers)


async def verdict(request: Request) -> Response:
    return await _take(request, "verdict")


async def answer(request: Request) -> Response:
    return await _take(request, "answer")


routes = [
    Route("/receipts/verdict", verdict, methods=["POST"]),
    Route("/receipts/answer", answer, methods=["POST"]),
]
