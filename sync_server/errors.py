"""The one JSON error shape every API answer uses: `{"ok": false, "error", "message"}`.

`message` is a Chinese sentence a volunteer can read; `error` is a stable code a
program can branch on.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = ["ApiError", "error_response"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"ok": False, "error": code, "message": message}, status_code=status, headers=headers)
