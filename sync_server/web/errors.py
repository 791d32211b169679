"""The one JSON error shape every API answer uses: `{"ok": false, "error", "message"}`.

`message` is a Chinese sentence a volunteer can read; `error` is a stable code a
program can branch on.
"""

from __future__ import annotations

import errno
import json
import traceback
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["CLIENT_GONE", "ApiError", "JSONAnswer", "client_gone", "disk_full", "error_response", "where_it_failed"]

# nginx's "client closed request": the status the access log gives a request whose
# client went away before it had sent its whole body.
CLIENT_GONE = 499


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class JSONAnswer(JSONResponse):
    """JSON that renders any Python string, including what a client sent back to it.

    JSON lets a client send a lone surrogate (`"\\ud800"`), which UTF-8 cannot carry. An
    answer that echoes such a value (a rejected item's id) is written with `\\u` escapes
    instead, so the client reads back exactly the string it sent, and never a 500.
    """

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONAnswer({"ok": False, "error": code, "message": message}, status_code=status, headers=headers)


def where_it_failed(exc: BaseException) -> str:
    """For a log line: the exception's type and the innermost place, never its message,
    which can hold a citizen's text (openpyxl, codecs and JSON errors quote their input)."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


async def client_gone(request: Request, exc: Exception) -> Response:
    """A client gone mid-body (a phone losing signal during an upload or a form post) is
    bad luck, not a fault: nothing was stored and there is nobody left to answer. The
    access log's one line (status 499) is all that is said of it, not a traceback."""
    return Response(status_code=CLIENT_GONE)


def disk_full(exc: BaseException) -> bool:
    """A write refused for want of room (the disk, or the user's quota): 507, not a fault."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
