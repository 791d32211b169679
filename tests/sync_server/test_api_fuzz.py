"""Whatever a client sends, the batch API answers with a status below 500 and, for a
well-formed request, one result per submission."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.ratelimit import Limit
from tests.sync_server.conftest import make_item

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["id", "station_id", "created_at", "rating", "feeling", "suggestion", "phone", "consent"]
ITEM = st.fixed_dictionaries({}, optional={f: JSON for f in FIELDS}) | JSON
@pytest.fixture
def client(settings):
    # Hundreds of requests in a second: the fuzzing is about input, not about the throttle.
    unthrottled = replace(settings, device_limit=Limit(1e6, 10**6), address_limit=Limit(1e6, 10**6))
    with TestClient(create_app(unthrottled)) as test_client:
        yield test_client


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_get_an_answer_below_500(client, body):
    response = client.post("/api/submissions/batch", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500
    assert response.json()["ok"] in (True, False)


@FUZZ
@given(items=st.lists(ITEM, max_size=5))
def test_any_items_get_one_result_each(client, items):
    response = client.post("/api/submissions/batch", json={"device_id": "fuzz", "submissions": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(items)
    assert {r["status"] for r in results} <= {"rejected"}


@FUZZ
@given(field=st.sampled_from(FIELDS), value=JSON)
def test_one_odd_field_never_breaks_the_server(client, field, value):
    response = client.post("/api/submissions/batch", json={"device_id": "fuzz", "submissions": [make_item(**{field: value})]})
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["status"] in ("accepted", "rejected")


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["station_id", "rating", "feeling", "suggestion", "phone", "consent", "x"]),
                              st.text(max_size=30), max_size=6))
def test_any_form_post_gets_a_page_below_500(client, fields):
    response = client.post("/api/submissions/form", data=fields)
    assert response.status_code < 500
