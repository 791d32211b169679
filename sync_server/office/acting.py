"""One action on one record, as every office page takes it (the record page, a batch):
the form's fields gathered, the lifecycle's rules applied for this account, and the
changed entries stored and shown to the office index (`intake.triage_writes`, the path
the citizen's steps by receipt take too). One path, so a batch can never do what the
record page would refuse."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request

from sync_server.intake.triage_writes import store  # noqa: F401 - the pages' one write path, read from here
from sync_server.triage import apply

__all__ = ["gathered", "new_entry_for", "store"]

def gathered(form: dict[str, str]) -> dict[str, str]:
    """The action's fields from a posted form, the token dropped. A 交办 form with no 协办
    box ticked sends no `co_departments` at all: it means none, not "keep the old ones"."""
    fields = {k: str(v) for k, v in form.items() if k not in ("csrf", "phone_on_record")}
    if fields.get("action") == "assign":
        fields.setdefault("co_departments", "")
    return fields


def new_entry_for(request: Request, account, row, action: str, fields: dict[str, str], now: datetime) -> dict[str, Any]:
    """The record's entry after `action` by `account`; raises TriageError (a MESSAGES
    code) when the account, the status or the fields do not allow it."""
    if action == "publish":
        # Where the public item shows is the record's own post and sector, never a form's.
        fields = {**fields, "station_id": row.record["station_id"], "sector": row.sector_id}
    elif action == "follow_up":
        # Whether a consented phone is still stored is the stored record's to say (the
        # record page reads it, `record_pages.record_action`), never a form's: unsaid, no.
        fields = {**fields, "phone_on_record": fields.get("phone_on_record") or "no"}
    return apply(row.triage, action, fields, account.name, now, account=account, registry=request.app.state.stations.registry)

