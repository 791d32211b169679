"""The 回访 list (/office/callbacks): closed matters whose citizen consented to a phone
and that no call has reached this round (`callbacks.waiting`), with the phone opened
for this session, and a form per row to record the call's outcome. Staff only
(`callbacks.may_call`). The phone is shown in the page's body alone: never in a URL
(the form posts the record's id and the outcome), a log line or a file. A phone
retention removed is gone from the stored record, so its matter leaves the list."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.callbacks import STATUSES, may_call, waiting
from sync_server.office.notices import done_message
from sync_server.office.pages import guarded, local_today, message_page, off_loop, render, unlocked_keys
from sync_server.office.sealed import opened_rows
from sync_server.triage import MESSAGES
from sync_server.triage_terms import CALL_OUTCOMES

__all__ = ["PAGE_SIZE", "callbacks_page", "has_phone"]

PAGE_SIZE = 25
READ_BATCH = 2000  # stored records read from disk at a time


def has_phone(record: dict[str, Any]) -> bool:
    """A consented phone still on the stored record, plain or sealed (retention drops
    both the number and the consent)."""
    if not record.get("consent"):
        return False
    sealed = record.get("sealed")
    return bool(record.get("phone") or (isinstance(sealed, dict) and sealed.get("phone")))


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


def _build(state, account, unlocked, page: int):
    readside, registry, today = state.readside, state.stations.registry, local_today()
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
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    number = min(page, pages)
    shown = listed[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    rows = []
    for item in shown:
        row = readside.row(item.id, registry, today)
        if row is not None:
            rows.append(dataclasses.replace(row, record={**row.record, **stored[item.id]}))
    # Only this page's phones are opened (sealed ones with this session's keys).
    rows = opened_rows(state, account, unlocked, rows, with_phone=True)
    attempts = {item.id: item.attempts for item in shown}
    return rows, attempts, len(listed), pages, number


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
