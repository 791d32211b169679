"""A verdict with a comment, stored, whose answer was lost: the page's outbox sends it
again. If meanwhile its post left the registry (keys existing), the retry must still be
the `duplicate` it is (sent twice, counted once), not a 409 `unsealable` telling the
citizen that their words could not be kept and to send again without them: the
comment is sealed (`_sealed`) before the step is looked for in the history.
Reviewer's test."""

from __future__ import annotations

import uuid

from tests.sync_server.intake.test_citizen_api import CANARY, close, sealed_client, seed, steps, verdict  # noqa: F401


def test_a_retry_of_a_stored_verdict_is_a_duplicate_even_once_its_post_left_the_registry(sealed_client):  # noqa: F811
    client = sealed_client
    record = seed(client)
    close(client, record["id"])
    step = str(uuid.uuid4())
    assert verdict(client, record["receipt"], step=step, comment=CANARY).json()["status"] == "accepted"
    stations = client.app.state.stations
    original = stations.station
    try:
        stations.station = lambda station_id: None  # the post removed from the registry
        again = verdict(client, record["receipt"], step=step, comment=CANARY)
    finally:
        stations.station = original
    assert again.status_code == 200 and again.json() == {"ok": True, "status": "duplicate"}
    assert len(steps(client, record["id"], "verdict")) == 1
