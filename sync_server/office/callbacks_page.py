"""The 回访 list (/office/callbacks): closed matters whose citizen consented to a phone
and that no call has reached this round (`callbacks.waiting`), with the phone opened
for this session, and a form per row to record the call's outcome. Staff only
(`callbacks.may_call`). The phone is shown in the page's body alone: never in a URL
(the form posts the record's id and the outcome), a log line or the list's download
(`/office/callbacks.xlsx`, to plan the calls by). A phone
retention removed is gone from the stored record, so its matter leaves the list."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.callbacks import STATUSES, has_phone, may_call, waiting
from sync_server.office.export_page import XLSX
from sync_server.office.notices import done_message
from sync_server.office.pages import guarded, local_today, message_page, off_loop, render, unlocked_keys
from sync_server.office.records import local_date
from sync_server.office.sealed import opened_rows
from sync_server.office.spreadsheet import content_disposition
from sync_server.office.workbook import Sheet, workbook_bytes
from sync_server.triage import MESSAGES
from sync_server.triage_terms import CALL_OUTCOMES

__all__ = ["EXPORT_COLUMNS", "PAGE_SIZE", "callbacks_export", "callbacks_page", "has_phone"]

PAGE_SIZE = 25
READ_BATCH = 2000  # stored records read from disk at a time


def _may_have_phone(inbox, submission_id: str) -> bool:
    """From the inbox's index alone: False when the record never stored a phone or
    retention removed it. Not the read side's flag: a sealed record keeps its phone in
    the envelope, and the office index knows of none. Consent is read on the record."""
    prints = inbox.fingerprints(submission_id)
    if prints is None or prints.phone_removed:
        return False
    return prints.legacy or prints.phone is not None  # a legacy record's digest says nothing of its phone


def _page_number(text: str) -> int:
    try:
        return max(1, int(text[:9]))
    except ValueError:
        return 1


def _listed(state) -> tuple[list, dict[str, dict]]:
    """Every matter waiting for a call whose stored record still holds a consented phone,
    in calling order, and those stored records by id."""
    readside = state.readside
    # Most records carry no phone: the inbox's index knows which, without the disk.
    candidates = [w for w in waiting(readside.entries_with_status(STATUSES)) if _may_have_phone(state.inbox, w.id)]
    listed, stored = [], {}
    for start in range(0, len(candidates), READ_BATCH):
        batch = candidates[start : start + READ_BATCH]
        found = state.inbox.get_many([w.id for w in batch])
        for item in batch:
            record = found.get(item.id)
            if record is not None and has_phone(record):
                listed.append(item)
                stored[item.id] = record
    return listed, stored


def _rows(state, items, stored) -> list:
    registry, today = state.stations.registry, local_today()
    rows = []
    for item in items:
        row = state.readside.row(item.id, registry, today)
        if row is not None:
            rows.append(dataclasses.replace(row, record={**row.record, **stored[item.id]}))
    return rows


def _build(state, account, unlocked, page: int):
    listed, stored = _listed(state)
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    number = min(page, pages)
    shown = listed[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    # Only this page's phones are opened (sealed ones with this session's keys).
    rows = opened_rows(state, account, unlocked, _rows(state, shown, stored), with_phone=True)
    attempts = {item.id: item.attempts for item in shown}
    return rows, attempts, len(listed), pages, number


EXPORT_COLUMNS = ["回执码", "民情哨", "领域", "办结日期", "承办单位", "状态", "未接通次数"]


def _export(state) -> bytes:
    """The whole list as a sheet to plan the calls by: never a phone (the numbers are
    read on the page, by staff, one page at a time)."""
    listed, stored = _listed(state)
    attempts = {item.id: item.attempts for item in listed}
    names = {d.id: d.name for d in state.stations.registry.departments}
    cells = [[row.record["receipt"], row.station_name, row.sector_name,
              local_date(row.triage["closed_at"]).isoformat() if row.triage.get("closed_at") else "",
              names.get(row.triage.get("department") or "", row.triage.get("lead") or ""), row.status_label,
              attempts[row.id]] for row in _rows(state, listed, stored)]
    return workbook_bytes([Sheet("回访名单", f"回访名单 {local_today().isoformat()}", EXPORT_COLUMNS, cells)])


@guarded(roles=("staff", "department", "viewer"))
async def callbacks_export(request: Request, account, session) -> Response:
    if not may_call(account):
        return message_page(request, account, "您的账号没有查看回访名单的权限：群众的电话只向区扫黑办工作人员显示。", 403)
    body = await off_loop(request, _export, request.app.state)
    day = local_today().isoformat()
    return Response(body, media_type=XLSX, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": content_disposition(f"回访名单-{day}.xlsx", f"callbacks-{day}.xlsx")})


@guarded(roles=("staff", "department", "viewer"))
async def callbacks_page(request: Request, account, session) -> Response:
    if not may_call(account):
        return message_page(request, account, "您的账号没有查看回访名单的权限：群众的电话只向区扫黑办工作人员显示。", 403)
    state = request.app.state
    query = request.query_params
    rows, attempts, total, pages, page = await off_loop(request, _build, state, account, unlocked_keys(request),
                                                        _page_number(query.get("page", "1")))
    registry = state.stations.registry
    return render(request, "callbacks.html", {
        "account": account, "session": session, "rows": rows, "attempts": attempts, "total": total,
        "pages": pages, "page": page, "outcomes": CALL_OUTCOMES,
        "dept_names": {d.id: d.name for d in registry.departments},
        "done": done_message(query.get("done", "")), "error": MESSAGES.get(query.get("error", ""), ""),
    })
