"""The health answer, at `/api/health` (and `/office/health`, where a logged-in browser
sends its session): whether the server is well, with the counts behind it only for
those who may read them.

Anyone may learn ok or not ok, and the HTTP status says the same (200 or 503), so a
monitor needs no login. The record count, whether the office index has loaded, and
the damaged files by name are for office staff logged in and for programs on the
server's own machine (see `proxy.from_this_machine`): to anyone else they say when
records arrive and how many there are.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync_server.web.proxy import from_this_machine

__all__ = ["health"]

INDEX_FAILED = "the office index could not be built (office pages show an error; see the server's log)"


def _may_read_details(request: Request) -> bool:
    if from_this_machine(request.scope):
        return True
    current = request.app.state.sessions.current(request)
    return current is not None and current[0].role == "staff"


async def health(request: Request) -> Response:
    # `problems`: damaged files set aside at start, one sentence each, and an office
    # index that failed to load (empty when all is well). `office_ready`: the office
    # index finished loading (uploads are taken before it is).
    state = request.app.state
    problems = list(state.store.problems()) + ([INDEX_FAILED] if state.readside.failed() else [])
    answer: dict = {"ok": not problems}
    if _may_read_details(request):
        answer |= {"records": len(state.inbox), "office_ready": state.readside.ready(), "problems": problems}
    return JSONResponse(answer, status_code=200 if answer["ok"] else 503, headers={"Cache-Control": "no-store"})
