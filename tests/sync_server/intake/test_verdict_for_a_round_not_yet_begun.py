"""A verdict naming a round that has not begun (round 2 on a matter never reopened: a
hand-made or corrupted request) is refused, but not with `old_round`'s sentence
“这件事已重新办理”, which tells the citizen something untrue about their matter (the
look-up says round 1, not 重新办理中). Reviewer's test."""

from __future__ import annotations

from tests.sync_server.intake.test_citizen_api import close, lookup, seed, steps, verdict


def test_a_verdict_for_a_round_not_yet_begun_does_not_say_the_matter_was_reopened(client):
    record = seed(client)
    close(client, record["id"])
    answer = verdict(client, record["receipt"], round_=2)
    assert answer.status_code in (400, 409) and steps(client, record["id"], "verdict") == []
    assert lookup(client, record["receipt"])["reopened"] is False
    assert "重新办理" not in answer.json()["message"]
