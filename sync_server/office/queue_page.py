"""A department's own queue (/office/queue, 我的待办): the matters dispatched to it,
whatever their sector, under 待签收, 办理中, 临期, 超期, 已退回 and 待审核 with their
counts, and the matters it helps with (协办) in a list of their own. A department account
sees its own department's queue only; staff pick any department (`?department=`) to see
the queue as that department sees it."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.dispatch.queue import sign_overdue
from sync_server.office.department_queue import TABS, department_queue
from sync_server.office.notices import done_message
from sync_server.office.pages import full_rows, guarded, local_today, off_loop, render, unlocked_keys
from sync_server.office.sealed import opened_rows
from sync_server.triage import TRACKS, now_utc

__all__ = ["queue_page"]


def _page_number(text: str) -> int:
    try:
        return max(1, int(text[:9]))
    except ValueError:
        return 1


def _shown(request: Request, account, *lists):
    """The rows with their words as this session may read them. A queue's rows are spread
    over the whole inbox: only those whose words are sealed (the office index keeps no
    words of them) are read from disk, to be opened; the others show the index's words,
    checked as every page checks them. The queue shows no phone."""
    state = request.app.state
    flat = [row for rows in lists for row in rows]
    sealed = [row for row in flat if not (row.record.get("feeling") or row.record.get("suggestion"))]
    opened = {row.id: row for row in full_rows(request, account, sealed)}
    plain = opened_rows(state, account, unlocked_keys(request), [row for row in flat if row.id not in opened])
    opened.update((row.id, row) for row in plain)
    return [[opened[row.id] for row in rows] for rows in lists]


@guarded(roles=("staff", "department"))
async def queue_page(request: Request, account, session) -> Response:
    state = request.app.state
    registry = state.stations.registry
    query = request.query_params
    if account.role == "department":
        department = registry.department(account.department)
    else:
        department = registry.department(query.get("department", "")[:64])
    tab, page = query.get("tab", ""), _page_number(query.get("page", "1"))
    today, now = local_today(), now_utc()

    def build():
        if department is None:
            return None, [], []
        entries = state.readside.department_entries(department.id)
        queue = department_queue(entries, department.id, tab, page, today, registry.dispatch)
        rows = [r for r in (state.readside.row(i, registry, today) for i in queue.ids) if r is not None]
        helped = [r for r in (state.readside.row(i, registry, today) for i in queue.co_ids) if r is not None]
        return queue, rows, helped

    queue, rows, helped = await off_loop(request, build)
    rows, helped = await off_loop(request, _shown, request, account, rows, helped)
    names = {d.id: d.name for d in registry.departments}
    keep = {"department": department.id} if department is not None and account.role == "staff" else {}
    return render(request, "queue.html", {
        "account": account, "session": session, "department": department, "departments": registry.departments,
        "queue": queue, "rows": rows, "helped": helped, "tabs": TABS, "tracks": TRACKS, "names": names,
        "sign_late": {r.id for r in (*rows, *helped) if sign_overdue(r.triage, now)},
        "done": done_message(query.get("done", "")), "keep": urlencode(keep), "picked": query.get("department", "") if account.role == "staff" else "",
    })
