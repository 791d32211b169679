"""POST /api/submissions/batch: every rule, with a request that would break it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.inbox import Inbox
from sync_server.ratelimit import Limit
from tests.sync_server.conftest import make_item, post_batch


def _statuses(response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


def test_new_submission_is_accepted_with_a_receipt_and_stored(client, settings):
    item = make_item()
    response = post_batch(client, [item])
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["id"] == item["id"] and result["status"] == "accepted" and result["error"] is None
    assert len(result["receipt"]) == 11
    client.close()  # release the writer lock before reading the folder
    with Inbox(settings.data_dir, writer=False) as inbox:
        stored = inbox.get(item["id"])
    assert stored["feeling"] == item["feeling"] and stored["receipt"] == result["receipt"]
    assert stored["device_id"] == "tablet-1" and stored["created_at"] == item["created_at"]
    assert datetime.fromisoformat(stored["received_at"]) <= datetime.now(timezone.utc)


def test_results_come_one_per_submission_in_order(client):
    items = [make_item(), {"id": "bad"}, make_item()]
    response = post_batch(client, items)
    assert [r["id"] for r in response.json()["results"]] == [items[0]["id"], "bad", items[2]["id"]]
    assert _statuses(response) == ["accepted", "rejected", "accepted"]


def test_same_id_and_content_again_is_a_duplicate_with_the_same_receipt(client):
    item = make_item()
    first = post_batch(client, [item]).json()["results"][0]
    again = post_batch(client, [item], device_id="tablet-2").json()["results"][0]
    assert again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    assert client.get("/api/health").json()["records"] == 1


def test_same_id_twice_in_one_batch_is_stored_once(client):
    item = make_item()
    assert _statuses(post_batch(client, [item, item])) == ["accepted", "duplicate"]
    assert client.get("/api/health").json()["records"] == 1


def test_same_id_with_different_content_is_a_conflict_and_leaves_the_record(client, settings):
    item = make_item()
    post_batch(client, [item])
    changed = dict(item, feeling="被改过的内容")
    [result] = post_batch(client, [changed]).json()["results"]
    assert result["status"] == "rejected" and result["error"]["code"] == "conflict" and result["error"]["field"] == "id"
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert inbox.get(item["id"])["feeling"] == item["feeling"]


def test_unknown_station_is_rejected_with_the_reason(client):
    [result] = post_batch(client, [make_item(station_id="no-such-post")]).json()["results"]
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "station_id" and result["error"]["code"] == "unknown_station"
    assert "no-such-post" in result["error"]["message"]


def test_retired_station_is_accepted_and_flagged(client):
    [result] = post_batch(client, [make_item(station_id="jincheng-old-market")]).json()["results"]
    assert result["status"] == "accepted" and result["flags"] == ["station_retired"]


def test_station_retired_after_the_record_was_made_still_accepts_it(client, registry_file):
    item = make_item()  # made at hebin-primary while it was active
    text = registry_file.read_text("utf-8")
    start = text.index("id: hebin-primary")
    end = text.index("active: true", start)
    registry_file.write_text(text[:end] + "active: false" + text[end + len("active: true") :], "utf-8")
    [result] = post_batch(client, [item]).json()["results"]
    assert result["status"] == "accepted" and result["flags"] == ["station_retired"]


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"feeling": "字" * 2001}, "feeling", "too_long"),
        ({"suggestion": "字" * 2001}, "suggestion", "too_long"),
        ({"phone": "12345", "consent": True}, "phone", "invalid"),
        ({"phone": "13812345678", "consent": False}, "consent", "required"),
        ({"created_at": (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()}, "created_at", "future"),
        ({"created_at": "2026-11-25T10:00:00"}, "created_at", "invalid"),
        ({"created_at": "yesterday"}, "created_at", "invalid"),
        ({"rating": "great"}, "rating", "invalid"),
        ({"rating": None, "feeling": " ", "suggestion": ""}, "feeling", "empty"),
        ({"consent": "yes"}, "consent", "type"),
        ({"feeling": 42}, "feeling", "type"),
        ({"id": "not-a-uuid"}, "id", "invalid"),
        ({"station_id": None}, "station_id", "required"),
    ],
)
def test_field_limits_reject_one_item_naming_the_field(client, fields, field, code):
    response = post_batch(client, [make_item(**fields), make_item()])
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["status"] == "rejected" and first["receipt"] is None
    assert (first["error"]["field"], first["error"]["code"]) == (field, code)
    assert first["error"]["message"]
    assert second["status"] == "accepted"


def test_phone_with_consent_is_stored_normalized(client, settings):
    item = make_item(phone="138 1234 5678", consent=True)
    assert _statuses(post_batch(client, [item])) == ["accepted"]
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert inbox.get(item["id"])["phone"] == "13812345678"


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


def _raw(client, body: bytes, content_type: str = "application/json"):
    return client.post("/api/submissions/batch", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    "body, code",
    [
        (b'{"device_id": "t", "submissions": [', "invalid_json"),
        (b'{"device_id": "t", "submissions": [], "x": "\xff\xfe"}', "invalid_utf8"),
        (b'{"device_id": "t", "submissions": [{"rating": NaN}]}', "invalid_number"),
        (b'{"device_id": "t", "submissions": [{"n": 1e999}]}', "invalid_number"),
        (b'{"device_id": "t", "device_id": "u", "submissions": []}', "duplicate_key"),
        (b'{"device_id": "t", "submissions": [' + b"[" * 50 + b"]" * 50 + b"]}", "too_deep"),
        (b'["not", "an", "object"]', "bad_shape"),
        (b'{"device_id": "t", "submissions": {}}', "bad_shape"),
        (b'{"device_id": "has spaces", "submissions": []}', "bad_shape"),
        (b'{"submissions": []}', "bad_shape"),
        (b'{"device_id": "t", "submissions": [], "extra": 1}', "bad_shape"),
    ],
)
def test_malformed_requests_are_refused_whole_with_400(client, body, code):
    _assert_error(_raw(client, body), 400, code)


def test_very_deep_nesting_is_a_400_not_a_500(client):
    _assert_error(_raw(client, b"[" * 100_000 + b"]" * 100_000), 400, "too_deep")


def test_body_over_256_kib_is_413(client):
    item = make_item(feeling="长" * 1900)
    body = json.dumps({"device_id": "t", "submissions": [item] * 60}, ensure_ascii=False).encode()
    assert len(body) > 256 * 1024
    _assert_error(_raw(client, body), 413, "too_large")


def test_more_than_100_submissions_is_413(client):
    _assert_error(post_batch(client, [make_item(feeling="短") for _ in range(101)]), 413, "too_many")
    assert client.get("/api/health").json()["records"] == 0


def test_exactly_100_submissions_are_accepted(client):
    response = post_batch(client, [make_item() for _ in range(100)])
    assert _statuses(response) == ["accepted"] * 100


def test_other_content_type_is_415(client):
    _assert_error(_raw(client, b"device_id=t", "application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    _assert_error(_raw(client, b"{}", "text/plain"), 415, "unsupported_media_type")


def test_unknown_api_path_and_method_answer_json(client):
    _assert_error(client.get("/api/nothing-here"), 404, "not_found")
    _assert_error(client.get("/api/submissions/batch"), 405, "method_not_allowed")


def test_one_device_sending_too_fast_gets_429_with_retry_after(settings):
    from dataclasses import replace

    tight = replace(settings, device_limit=Limit(rate=0.01, burst=3))
    with TestClient(create_app(tight)) as client:
        codes = [post_batch(client, [make_item()]).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = post_batch(client, [make_item()])
        _assert_error(limited, 429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert post_batch(client, [make_item()], device_id="tablet-2").status_code == 200


def test_one_address_sending_too_fast_gets_429(settings):
    from dataclasses import replace

    tight = replace(settings, address_limit=Limit(rate=0.01, burst=2))
    with TestClient(create_app(tight)) as client:
        codes = [post_batch(client, [make_item()], device_id=f"d{i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_default_limits_never_throttle_25_tablets_behind_one_address_syncing_1000_records(client):
    for tablet in range(25):
        for _ in range(10):
            response = post_batch(client, [make_item(feeling="短") for _ in range(4)], device_id=f"tablet-{tablet}")
            assert response.status_code == 200
