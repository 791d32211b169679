"""Reading requests safely: capped bodies, client addresses, content types."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from starlette.requests import Request

from sync_server.web.errors import ApiError

__all__ = ["client_address", "form_fields", "media_type", "read_body", "read_form"]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or a 413 as soon as it is known to pass `limit` bytes, or a 408 when it
    has not all arrived within the settings' `body_timeout` (the connection then closes)."""
    too_large = ApiError(413, "too_large", f"请求内容超过 {limit // 1024} KB，请分批发送。")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async with asyncio.timeout(request.app.state.settings.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        # The rest of the body may still come: close rather than read it as the next request.
        raise ApiError(408, "body_timeout", "请求内容发送超时，请检查网络后重试。", {"Connection": "close"}) from None
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def client_address(request: Request) -> str:
    """The client's address: the socket's, or what `proxy.ForwardedFor` found behind a trusted proxy."""
    return request.client.host if request.client else "unknown"


# Fields a form may repeat (a multiple <select>, checkboxes): their values joined by
# commas, which none of them may hold (department ids are slugs).
MULTI_FIELDS = frozenset({"co_departments"})


def form_fields(body: bytes) -> dict[str, str]:
    """A urlencoded body as {name: first value} (MULTI_FIELDS: every value, joined by
    commas); a 400 if it is not UTF-8."""
    try:
        pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_form", "表单内容无法识别。") from None
    return {key: ",".join(values) if key in MULTI_FIELDS else values[0] for key, values in pairs.items()}


async def read_form(request: Request, limit: int = 64 * 1024) -> dict[str, str]:
    if media_type(request) != "application/x-www-form-urlencoded":
        raise ApiError(415, "unsupported_media_type", "请通过页面上的表单提交。")
    return form_fields(await read_body(request, limit))
