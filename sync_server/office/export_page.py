"""The 明细 export (/office/records.xlsx): the office list's current filter and search,
every row of it, as one formatted sheet (see `record_export`, `workbook`).

The rows are exactly those the account's list shows (`inbox_page.listed`). Sealed words
are opened for this session where it holds the key, and only then; phones are written
for staff who ask (`phone=1`, never a number in the URL) and only where the citizen
consented. Built in the office's worker thread, never on the event loop.
"""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.inbox_page import listed
from sync_server.office.pages import guarded, local_today, off_loop, unlocked_keys
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.record_export import export_sheet
from sync_server.office.records import Filters
from sync_server.office.sealed import opened_rows
from sync_server.office.spreadsheet import content_disposition
from sync_server.office.workbook import workbook_bytes

__all__ = ["XLSX", "record_export"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_BATCH = 2000  # stored records read from disk at a time (sealed words, phones)


def _opened(state, account, unlocked, rows: list, with_phone: bool) -> list:
    """The rows with what the read side does not hold: a sealed record's words, and a
    consented phone when asked for. Only those records are read from disk."""
    readside = state.readside
    wanted = [r.id for r in rows if not (r.record.get("feeling") or r.record.get("suggestion"))
              or (with_phone and readside.may_have_phone(r.id))]
    full: dict = {}
    for start in range(0, len(wanted), READ_BATCH):
        full.update(state.inbox.get_many(wanted[start : start + READ_BATCH]))
    rows = [dataclasses.replace(r, record={**r.record, **full[r.id]}) if r.id in full else r for r in rows]
    return opened_rows(state, account, unlocked, rows, with_phone)


def build_export(state, account, unlocked, filters: Filters, with_phone: bool) -> bytes:
    today = local_today()
    with no_cyclic_gc():  # a hundred thousand rows of small objects made at once
        rows = _opened(state, account, unlocked, listed(state, account, unlocked, filters, True), with_phone)
        towns = {station.id: station.town for station in state.stations.registry.stations}
        names = {d.id: d.name for d in state.stations.registry.departments}
        return workbook_bytes([export_sheet(rows, towns, with_phone, f"民情明细 {today.isoformat()}", names)])


@guarded(roles=("staff", "department"))
async def record_export(request: Request, account, session) -> Response:
    state = request.app.state
    filters = Filters.from_query(request.query_params)
    with_phone = request.query_params.get("phone") == "1" and account.role == "staff"
    body = await off_loop(request, build_export, state, account, unlocked_keys(request), filters, with_phone)
    day = local_today().isoformat()
    return Response(body, media_type=XLSX, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": content_disposition(f"民情明细-{day}.xlsx", f"records-{day}.xlsx")})
