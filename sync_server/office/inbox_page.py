"""The inbox list (/office/records): a page of records filtered, searched and paged by
the read side, then opened for this session."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.pages import full_rows, guarded, local_today, off_loop, readable_sectors, render, unlocked_keys
from sync_server.office.records import LIST_STATUSES, Filters
from sync_server.office.sealed import sealed_search_note, sealing_notice
from sync_server.triage import SATISFACTION

__all__ = ["listed", "record_list"]


def listed(state, account, unlocked, filters: Filters, every: bool):
    """What this account's list shows for `filters`: one page (a `Page`), or every row
    of it (the 明细 export), so the export never shows what the list would not."""
    # Sealed words are searched where they were opened for this session's keys.
    matched = state.opened_words.search(unlocked, account.sees_sector, filters.q) if filters.q else ()
    read = state.readside.rows if every else state.readside.page
    return read(filters, readable_sectors(account), state.stations.registry, local_today(), matched)


@guarded(roles=("staff", "department"))
async def record_list(request: Request, account, session) -> Response:
    state = request.app.state
    filters = Filters.from_query(request.query_params)
    registry = state.stations.registry
    unlocked, words = unlocked_keys(request), state.opened_words
    # Off the event loop: a search over many records must never hold up an upload.
    found = await off_loop(request, listed, state, account, unlocked, filters, False)
    # Only this page's rows are opened: one page costs a few milliseconds of key work.
    rows = await off_loop(request, full_rows, request, account, found.rows)
    sectors = [s for s in registry.sectors if account.sees_sector(s.id)]
    query = {k: v for k, v in request.query_params.items() if k not in ("page", "phone")}
    return render(request, "records.html", {
        "account": account, "session": session, "rows": rows, "filters": filters, "pages": found.pages,
        "page": found.page, "total": found.total,
        "statuses": LIST_STATUSES, "sectors": sectors, "query": urlencode(query), "satisfaction": SATISFACTION,
        "stations": [s for s in registry.stations if account.sees_sector(s.sector)],
        "sealing_notice": sealing_notice(state),
        "sealed_search": sealed_search_note(words.progress(unlocked, account.sees_sector,
                                                           state.intake.sealer.sector_of_kid())),
    })
