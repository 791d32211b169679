"""What a citizen may see of a record from its receipt code: status, date, public reply.

Never the text, the station or the phone: whoever holds a receipt code (a family
member, a person looking over a shoulder) learns only that the office acted. A record
merged into another as a duplicate answers with the matter it joined: that matter's
status and public reply are what the citizen is waiting for.
"""

from __future__ import annotations

from typing import Any

from sync_server.triage import STATUSES

__all__ = ["public_status"]

# The office's inner steps, as the citizen's stage: a matter a department sent back is
# the office's again (not refused), one awaiting the office's review is still being handled.
_PUBLIC = {"returned": "accepted", "review": "in_progress"}


def public_status(record: dict[str, Any], triage: dict[str, Any] | None,
                  target: dict[str, Any] | None = None) -> dict[str, Any]:
    """The status label, the date of the last change and the public reply; nothing else.

    `target` is the triage entry of the record this one was merged into, if any."""
    triage = triage or {}
    if triage.get("merged_into") and target is not None:
        own_reply = triage.get("public_reply")
        triage = {**target, "public_reply": target.get("public_reply") or own_reply}
    return {
        "status": STATUSES[_PUBLIC.get(triage.get("status", "received"), triage.get("status", "received"))],
        "updated_at": (triage.get("updated_at") or record["received_at"])[:10],
        "reply": triage.get("public_reply") or None,
    }
