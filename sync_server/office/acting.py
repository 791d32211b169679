"""One action on one record, as every office page takes it (the record page, a batch):
the form's fields gathered, the lifecycle's rules applied for this account, and the
changed entries stored and shown to the office index. One path, so a batch can never
do what the record page would refuse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anyio import to_thread
from starlette.requests import Request

from sync_server.triage import apply

__all__ = ["gathered", "new_entry_for", "store"]

def gathered(form: dict[str, str]) -> dict[str, str]:
    """The action's fields from a posted form, the token dropped. A 交办 form with no 协办
    box ticked sends no `co_departments` at all: it means none, not "keep the old ones"."""
    fields = {k: str(v) for k, v in form.items() if k != "csrf"}
    if fields.get("action") == "assign":
        fields.setdefault("co_departments", "")
    return fields


def new_entry_for(request: Request, account, row, action: str, fields: dict[str, str], now: datetime) -> dict[str, Any]:
    """The record's entry after `action` by `account`; raises TriageError (a MESSAGES
    code) when the account, the status or the fields do not allow it."""
    if action == "publish":
        # Where the public item shows is the record's own post and sector, never a form's.
        fields = {**fields, "station_id": row.record["station_id"], "sector": row.sector_id}
    return apply(row.triage, action, fields, account.name, now, account=account, registry=request.app.state.stations.registry)


async def store(request: Request, changes: dict[str, dict[str, Any]]) -> None:
    """Write the changed entries durably, then show them to the office index. Both off
    the event loop: the index copies the sets it replaces (tens of milliseconds at a
    million records), time an upload must not wait behind."""
    state = request.app.state
    stored = await to_thread.run_sync(state.triage.put_many, changes)
    await to_thread.run_sync(state.readside.triage_changed, stored)
