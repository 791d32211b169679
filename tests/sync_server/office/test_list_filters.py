"""The office list's dispatch filters: by lead department (承办单位) and 临期 (open, the
deadline within the registry's warning days, not yet overdue); the read side answers
what the full scan answers, alone and with the other filters."""

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
UNTIL = (TODAY + timedelta(days=3)).isoformat()
DEPARTMENTS = ["police", "market", "edu"]


@pytest.fixture(scope="module")
def registry():
    return load_registry(SAMPLE_REGISTRY)


def _world(registry, count=300, seed=5):
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
        if rng.random() < 0.6:
            status = rng.choice(["accepted", "assigned", "in_progress", "review", "closed"])
            deadline = (TODAY + timedelta(days=rng.randint(-5, 8))).isoformat()
            triage[rid] = {**new_entry(received), "status": status, "deadline": deadline,
                           "department": rng.choice(DEPARTMENTS) if status != "accepted" else ""}
    return records, triage


FILTERS = [
    Filters(department="market"), Filters(department="nobody"), Filters(due_soon=True, due_until=UNTIL),
    Filters(due_soon=True, due_until=UNTIL, department="police"), Filters(due_soon=True, due_until=UNTIL, status="assigned"),
    Filters(overdue=True, department="edu"), Filters(department="market", sector="market", page=2),
    Filters(due_soon=True, due_until=UNTIL, q="反映 1"),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_dispatch_filters_answer_what_the_full_scan_answers(registry, filters):
    records, triage = _world(registry)
    side = MemoryReadSide(records, triage)
    expected, pages = select(join(records, triage, registry, TODAY), filters)
    found = side.page(filters, None, registry, TODAY)
    assert [r.id for r in found.rows] == [r.id for r in expected] and found.pages == pages


def test_due_soon_is_open_not_overdue_and_within_the_window(registry):
    records, triage = _world(registry)
    rows = join(records, triage, registry, TODAY)
    found, _ = select(rows, Filters(due_soon=True, due_until=UNTIL, page=1))
    assert found
    for row in found:
        assert row.triage["status"] in ("assigned", "in_progress") and not row.overdue
        assert TODAY.isoformat() <= row.triage["deadline"] <= UNTIL


def test_the_filters_follow_a_reassignment(registry):
    records, triage = _world(registry, count=40)
    side = MemoryReadSide(records, triage)
    rid = records[0]["id"]
    side.triage_changed({rid: {**new_entry(records[0]["received_at"]), "status": "assigned", "department": "market",
                               "deadline": "2026-11-26"}})
    assert rid in {r.id for r in side.page(Filters(department="market", page=1), None, registry, TODAY).rows} | {
        r.id for p in range(2, 5) for r in side.page(Filters(department="market", page=p), None, registry, TODAY).rows}
    side.triage_changed({rid: {**new_entry(records[0]["received_at"]), "status": "assigned", "department": "police",
                               "deadline": "2026-11-26"}})
    market = side.page(Filters(department="market"), None, registry, TODAY)
    assert rid not in {r.id for p in range(1, market.pages + 1)
                       for r in side.page(Filters(department="market", page=p), None, registry, TODAY).rows}
