"""The one path a change of triage entries takes to disk and to the office index: every
office page (through `office.acting`) and the citizen's steps by receipt
(`citizen_api`). Here, below both, so that the receipt API writes exactly as an office
action does: under the office's write lock (`state.office_writes`), each change read
from the entry it replaces, stored durably in the triage log, then shown to the index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anyio import to_thread
from starlette.requests import Request

from sync_server.dispatch.rules import CITIZEN
from sync_server.triage import apply, new_entry

__all__ = ["citizen_step", "store"]


async def store(request: Request, changes: dict[str, dict[str, Any]]) -> None:
    """Write the changed entries durably, then show them to the office index. Both off
    the event loop: the index copies the sets it replaces (tens of milliseconds at a
    million records), time an upload must not wait behind. The caller holds the lock."""
    state = request.app.state
    stored = await to_thread.run_sync(state.triage.put_many, changes)
    await to_thread.run_sync(state.readside.triage_changed, stored)


async def citizen_step(request: Request, record_id: str, received_at: str, action: str, fields: dict[str, Any],
                       now: datetime) -> dict[str, Any]:
    """A citizen's step by receipt (verdict, answer) on the record, applied and stored on
    the office's own path, under its write lock: it reads the entry an office action
    just wrote, and the other way round. The new entry; raises TriageError (`duplicate`
    for a step already stored: nothing is written)."""
    state = request.app.state
    async with state.office_writes:
        entry = await to_thread.run_sync(state.triage.entry, record_id)
        changed = apply(entry if entry is not None else new_entry(received_at), action, fields, CITIZEN.name, now,
                        account=CITIZEN, registry=state.stations.registry)
        await store(request, {record_id: changed})
    return changed
