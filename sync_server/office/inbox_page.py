"""The inbox list (/office/records): a page of records filtered, searched and paged by
the read side, then opened for this session."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.pages import full_rows, guarded, local_today, off_loop, readable_sectors, render, unlocked_keys
from sync_server.office.records import LIST_STATUSES, Filters, due_soon
from sync_server.office.sealed import sealed_search_note, sealing_notice
from sync_server.triage import SATISFACTION, TRACKS

__all__ = ["record_list"]


@guarded(roles=("staff", "department"))
async def record_list(request: Request, account, session) -> Response:
    state = request.app.state
    registry = state.stations.registry
    today = local_today()
    due_until = today + timedelta(days=registry.dispatch.warn_days)
    filters = Filters.from_query(request.query_params, due_until.isoformat())
    unlocked, words = unlocked_keys(request), state.opened_words

    def find():
        # Sealed words are searched where they were opened for this session's keys.
        matched = words.search(unlocked, account.sees_sector, filters.q) if filters.q else ()
        return state.readside.page(filters, readable_sectors(account), registry, today, matched)

    # Off the event loop: a search over many records must never hold up an upload.
    found = await off_loop(request, find)
    # Only this page's rows are opened: one page costs a few milliseconds of key work.
    rows = await off_loop(request, full_rows, request, account, found.rows)
    sectors = [s for s in registry.sectors if account.sees_sector(s.id)]
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(request, "records.html", {
        "account": account, "session": session, "rows": rows, "filters": filters, "pages": found.pages,
        "page": found.page, "total": found.total,
        "statuses": LIST_STATUSES, "sectors": sectors, "departments": registry.departments, "tracks": TRACKS,
        "dept_names": {d.id: d.name for d in registry.departments},
        "due_soon": {r.id for r in rows if due_soon(r, due_until.isoformat())},
        "query": urlencode(query), "satisfaction": SATISFACTION,
        "stations": [s for s in registry.stations if account.sees_sector(s.sector)],
        "sealing_notice": sealing_notice(state),
        "sealed_search": sealed_search_note(words.progress(unlocked, account.sees_sector,
                                                           state.intake.sealer.sector_of_kid())),
    })
