"""What a citizen may see of a record from its receipt code: status, date, public reply,
and what the citizen may do next (群众说了算): the handling round, whether a verdict may
be given now, the verdict given (its choice, never its comment), the office's reason
when it kept its handling (维持原处理), and a question the office asked.

Never the text, the station or the phone: whoever holds a receipt code (a family
member, a person looking over a shoulder) learns only that the office acted. A record
merged into another as a duplicate answers with the matter it joined: that matter's
status and public reply are what the citizen is waiting for, but never its verdict or
its questions, which belong to another citizen.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sync_server.triage import OPEN, SATISFACTION, STATUSES
from sync_server.verdicts import latest_question, verdict_open, verdict_until

__all__ = ["REOPENED", "public_status"]

# The office's inner steps, as the citizen's stage: a matter a department sent back is
# the office's again (not refused), one awaiting the office's review is still being handled.
_PUBLIC = {"returned": "accepted", "review": "in_progress"}
REOPENED = "重新办理中"  # an open matter in its second round or later


def public_status(record: dict[str, Any], triage: dict[str, Any] | None,
                  target: dict[str, Any] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The status label, the date of the last change, the public reply and the verdict's
    state; nothing else.

    `target` is the triage entry of the record this one was merged into, if any."""
    now = now or datetime.now(timezone.utc)
    own = triage or {}
    triage = own
    merged = bool(own.get("merged_into")) or own.get("outcome") == "merged"
    if own.get("merged_into") and target is not None:
        own_reply = own.get("public_reply")
        triage = {**target, "public_reply": target.get("public_reply") or own_reply}
    status = triage.get("status", "received")
    round_ = triage.get("round", 1) if isinstance(triage.get("round", 1), int) else 1
    reopened = round_ > 1 and status in OPEN
    label = REOPENED if reopened else STATUSES[_PUBLIC.get(status, status)]
    answer = {
        "status": label,
        "updated_at": (triage.get("updated_at") or record["received_at"])[:10],
        "reply": triage.get("public_reply") or None,
        "round": round_, "reopened": reopened, "verdict_open": False, "verdict": None, "maintained": None,
        "question": None, "previous_reply": None,
    }
    if reopened and not _replied_since_reopening(triage):
        # The first round's reply is not the answer to the round under way: say it was the
        # last round's, so nobody reads "已修好" beside "重新办理中" as today's word.
        answer["reply"], answer["previous_reply"] = None, triage.get("public_reply") or None
    if merged or not own:
        return answer
    verdict = own.get("verdict")
    if verdict is not None and verdict.get("round") == round_:
        answer["verdict"] = {"choice": SATISFACTION[verdict["choice"]],
                             "changeable_until": verdict_until(verdict).isoformat()}
    maintained = own.get("maintained")
    if maintained is not None and maintained.get("round") == round_:
        answer["maintained"] = maintained["reason"]
    question = latest_question(own)
    if question is not None:
        answer["question"] = {"id": question["id"], "text": question["text"]}
    answer["verdict_open"] = verdict_open(own, now)
    return answer


def _replied_since_reopening(triage: dict[str, Any]) -> bool:
    for step in reversed(triage.get("history") or ()):
        if step.get("action") == "reopen":
            return False
        if step.get("action") == "reply":
            return True
    return False
