"""A 回访 call nobody answered (未接通) counts as a call only, never as a verdict
(issue 22 §5; `triage_terms`: "or nobody answered (counted as a call only)"). The
department figures read a follow-up step's verdict from its `to`, which a 未接通 leaves
at 已办结: it is counted as a 不满意 verdict, and after an earlier satisfied call (to
已回访) as a 满意 one. Reviewer's test."""

from __future__ import annotations

from datetime import datetime, timezone

from sync_server.office.department_figures import office_verdicts
from sync_server.triage import apply, new_entry


def _called(status: str, outcome: str) -> dict:
    now = datetime.now(timezone.utc)
    entry = {**new_entry(now.isoformat(timespec="seconds")), "status": status, "outcome": "resolved",
             "public_reply": "已处理。", "closed_at": now.isoformat(timespec="seconds")}
    return apply(entry, "follow_up", {"satisfaction": outcome}, "amy", now)["history"][-1]


def test_a_call_nobody_answered_is_not_counted_as_a_verdict():
    assert office_verdicts(_called("closed", "no_answer")) is None
    assert office_verdicts(_called("followed_up", "no_answer")) is None
