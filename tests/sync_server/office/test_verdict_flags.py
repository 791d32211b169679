"""The flags 群众不满意 (`dissatisfied`) and 群众已补充 (`citizen_added`) as list filters:
the read side answers what the full scan answers, alone and with other filters, and
follows an entry whose flag is set or cleared."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from minqing.registry import load_registry
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.records import Filters, join, select
from sync_server.triage import new_entry
from tests.conftest import SAMPLE_REGISTRY

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def registry():
    return load_registry(SAMPLE_REGISTRY)


def _world(registry, count=200, seed=11):
    rng = random.Random(seed)
    stations = [s.id for s in registry.stations]
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    records, triage = [], {}
    for n in range(count):
        rid = str(uuid.UUID(int=rng.getrandbits(128)))
        received = (start + timedelta(hours=3 * n)).isoformat(timespec="milliseconds")
        records.append({"id": rid, "station_id": rng.choice(stations), "received_at": received, "created_at": received,
                        "rating": None, "feeling": f"反映 {n}", "suggestion": "", "phone": None, "consent": False,
                        "receipt": f"R{n:04d}-X", "flags": []})
        if rng.random() < 0.7:
            triage[rid] = {**new_entry(received), "status": rng.choice(["closed", "followed_up", "in_progress"]),
                           "dissatisfied": rng.random() < 0.3, "citizen_added": rng.random() < 0.3}
    return records, triage


FILTERS = [Filters(dissatisfied=True), Filters(citizen_added=True), Filters(dissatisfied=True, citizen_added=True),
           Filters(dissatisfied=True, status="closed"), Filters(citizen_added=True, q="反映 1")]


@pytest.mark.parametrize("filters", FILTERS)
def test_flag_filters_answer_what_the_full_scan_answers(registry, filters):
    records, triage = _world(registry)
    side = MemoryReadSide(records, triage)
    expected, pages = select(join(records, triage, registry, TODAY), filters)
    found = side.page(filters, None, registry, TODAY)
    assert expected
    assert [r.id for r in found.rows] == [r.id for r in expected] and found.pages == pages


def test_flag_filters_keep_only_flagged_matters(registry):
    records, triage = _world(registry)
    found, _ = select(join(records, triage, registry, TODAY), Filters(dissatisfied=True))
    assert found and all(r.triage["dissatisfied"] for r in found)
    found, _ = select(join(records, triage, registry, TODAY), Filters(citizen_added=True))
    assert found and all(r.triage["citizen_added"] for r in found)


def test_the_flag_filter_follows_a_flag_set_and_cleared(registry):
    records, triage = _world(registry, count=30)
    side = MemoryReadSide(records, triage)
    rid = records[0]["id"]
    flagged = {**new_entry(records[0]["received_at"]), "status": "closed", "dissatisfied": True}
    side.triage_changed({rid: flagged})
    assert rid in {r.id for r in side.page(Filters(dissatisfied=True), None, registry, TODAY).rows}
    side.triage_changed({rid: {**flagged, "dissatisfied": False}})
    assert rid not in {r.id for r in side.rows(Filters(dissatisfied=True), None, registry, TODAY)}


def test_the_query_turns_the_boxes_into_flag_filters():
    filters = Filters.from_query({"dissatisfied": "1", "citizen_added": "1"})
    assert filters.dissatisfied and filters.citizen_added
    assert not Filters.from_query({"dissatisfied": "yes"}).dissatisfied
