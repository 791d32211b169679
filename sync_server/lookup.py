"""What a citizen may see of a record from its receipt code: status, date, public reply.

Never the text, the station or the phone: whoever holds a receipt code (a family
member, a person looking over a shoulder) learns only that the office acted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["public_status"]

RECEIVED = "已收到"


def public_status(record: dict[str, Any]) -> dict[str, Any]:
    triage = record.get("triage") or {}
    return {
        "status": triage.get("status", RECEIVED),
        "updated_at": (triage.get("updated_at") or record["received_at"])[:10],
        "reply": triage.get("public_reply") or None,
    }
