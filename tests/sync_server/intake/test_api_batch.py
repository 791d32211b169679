"""POST /api/submissions/batch: every rule, with a request that would break it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store.embedded.inbox import Inbox
from sync_server.web.ratelimit import Limit
from tests.sync_server.conftest import health_here, make_item, post_batch


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
    assert stored["created_at"] == item["created_at"]
    assert "device_id" not in stored and stored["kiosk"] is None and stored["flags"] == []
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
    assert health_here(client)["records"] == 1


def test_same_id_twice_in_one_batch_is_stored_once(client):
    item = make_item()
    assert _statuses(post_batch(client, [item, item])) == ["accepted", "duplicate"]
    assert health_here(client)["records"] == 1


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
        ({"created_at": "2026-11-25T10:00:00"}, "created_at", "invalid"),
        ({"created_at": "yesterday"}, "created_at", "invalid"),
        ({"created_at": "2026-11-25 10:00:00+08:00"}, "created_at", "invalid"),
        ({"created_at": "2026-W48-3T10:00:00+08:00"}, "created_at", "invalid"),
        ({"created_at": "20261125T100000+0800"}, "created_at", "invalid"),
        ({"created_at": "2026-11-25T10:00+08:00"}, "created_at", "invalid"),
        ({"created_at": "2026-11-25T10:00:00+08:00\n"}, "created_at", "invalid"),
        ({"created_at": "2026-02-30T10:00:00+08:00"}, "created_at", "invalid"),
        ({"created_at": "٢٠٢٦-11-25T10:00:00+08:00"}, "created_at", "invalid"),
        ({"created_at": "0001-01-01T00:00:00+01:00"}, "created_at", "invalid"),
        ({"created_at": "9999-12-31T23:59:59-01:00"}, "created_at", "invalid"),
        ({"created_at": 1764000000}, "created_at", "required"),
        ({"rating": "great"}, "rating", "invalid"),
        ({"rating": None, "feeling": " ", "suggestion": ""}, "feeling", "empty"),
        ({"consent": "yes"}, "consent", "type"),
        ({"feeling": 42}, "feeling", "type"),
        ({"id": "not-a-uuid"}, "id", "invalid"),
        ({"id": "{1234567812341234-1234-1234567890ab}"}, "id", "invalid"),
        ({"id": "12345678-1234-1234-1234-1234567890ab\n"}, "id", "invalid"),
        ({"id": "123456781234123412341234567890abcdef"}, "id", "invalid"),
        ({"station_id": None}, "station_id", "required"),
        ({"station_id": "hebin-primary\n"}, "station_id", "invalid"),
        ({"phone": "١٣٨١٢٣٤٥٦٧٨", "consent": True}, "phone", "invalid"),
        ({"phone": "138\x1b12345678", "consent": True}, "phone", "invalid_text"),
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
        (b'{"device_id": "abc\\n", "submissions": []}', "bad_shape"),
        (b'{"device_id": "t", "kiosk": "post 7", "submissions": []}', "bad_shape"),
        (b'{"device_id": "t", "kiosk": "", "submissions": []}', "bad_shape"),
        (b'{"device_id": "t", "kiosk": "k\\n", "submissions": []}', "bad_shape"),
        (b'{"device_id": "t", "submissions": [{"rating": ' + b"9" * 5000 + b"}]}", "invalid_number"),
        (b'{"device_id": "t", "submissions": [{"rating": -' + b"9" * 33 + b"}]}", "invalid_number"),
        (b'{"device_id": "t", "submissions": [{"rating": 1' + b"0" * 400 + b'.5}]}', "invalid_number"),
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
    assert health_here(client)["records"] == 0


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


def _send(client, payload: dict):
    # Escaped JSON carries what a hostile client can send: lone surrogates included.
    return _raw(client, json.dumps(payload, ensure_ascii=True).encode())


@pytest.mark.parametrize(
    "text",
    ["\ud800", "残缺\udfff的表情", "\ufffe", "\U0010ffff", "\ufdd0", "颜色\x1b[31m", "\x00", "\x7f", "\x85"],
)
def test_text_that_utf8_or_a_person_cannot_carry_rejects_that_item_only(client, text):
    honest = make_item()
    response = _send(client, {"device_id": "t", "submissions": [make_item(feeling=text), honest]})
    assert response.status_code == 200
    bad, good = response.json()["results"]
    assert bad["status"] == "rejected" and bad["error"]["code"] == "invalid_text" and bad["error"]["field"] == "feeling"
    assert "字符" in bad["error"]["message"]
    assert good["status"] == "accepted" and good["id"] == honest["id"]


def test_unassigned_and_tag_characters_are_a_citizens_words_and_are_kept(client, settings):
    item = make_item(feeling="\u200f标记\u200e \U000e0001 \U0003134b")
    assert _statuses(_send(client, {"device_id": "t", "submissions": [item]})) == ["accepted"]
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert inbox.get(item["id"])["feeling"] == item["feeling"]


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                     "\u2069"])
def test_bidi_embeddings_overrides_and_isolates_are_refused(client, control):
    # They reorder what the office reads ("电话 \u202e8765 4321" shows as another number)
    # and nobody types them (issue 20); the marks (U+200E, U+200F) are kept above.
    item = make_item(feeling=f"反向{control}文字")
    [result] = json.loads(_send(client, {"device_id": "t", "submissions": [item]}).content)["results"]
    assert result["status"] == "rejected" and result["error"]["code"] == "invalid_text"


def test_a_rejected_id_with_a_lone_surrogate_is_echoed_exactly_as_sent(client):
    sent = "\ud800" + "0" * 35
    response = _send(client, {"device_id": "t", "submissions": [make_item(id=sent)]})
    assert response.status_code == 200
    [result] = json.loads(response.content)["results"]
    assert result["id"] == sent and result["status"] == "rejected" and result["error"]["code"] == "invalid"


def test_an_upper_case_uuid_is_acknowledged_as_sent_and_stored_in_canonical_form(client, settings):
    item = make_item()
    upper = dict(item, id=item["id"].upper())
    [first] = post_batch(client, [upper]).json()["results"]
    assert first["id"] == upper["id"] and first["status"] == "accepted"
    [again] = post_batch(client, [upper]).json()["results"]
    assert again["id"] == upper["id"] and again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    [lower] = post_batch(client, [item]).json()["results"]
    assert lower["id"] == item["id"] and lower["status"] == "duplicate" and lower["receipt"] == first["receipt"]
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert [r["id"] for r in inbox.records()] == [item["id"]]


def test_a_full_width_phone_from_a_chinese_keyboard_is_stored_in_ascii(client, settings):
    item = make_item(phone="１３８　１２３４　５６７８", consent=True)
    assert _statuses(post_batch(client, [item])) == ["accepted"]
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert inbox.get(item["id"])["phone"] == "13812345678"


# A device clock ahead of now by a span, or a fixed time long past. Spans are added to
# the clock when the test runs: a test id made of the time at collection would differ
# between two pytest-xdist workers, which must collect the same tests.
WRONG_CLOCKS = {
    "3-days-ahead": timedelta(days=3),
    "10-years-ahead": timedelta(days=3650),
    "1970": "1970-01-01T00:03:12.000Z",
    "2019": "2019-12-31T23:59:59+08:00",
}


@pytest.mark.parametrize("clock", list(WRONG_CLOCKS.values()), ids=list(WRONG_CLOCKS))
def test_a_wrong_device_clock_never_refuses_the_record_it_is_stored_and_flagged(client, settings, clock):
    created_at = clock if isinstance(clock, str) else (datetime.now(timezone.utc) + clock).isoformat(timespec="seconds")
    item = make_item(created_at=created_at)
    [result] = post_batch(client, [item]).json()["results"]
    assert result["status"] == "accepted" and result["flags"] == ["clock_skew"]
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        stored = inbox.get(item["id"])
    assert stored["created_at"] == created_at and stored["flags"] == ["clock_skew"]
    assert abs(datetime.fromisoformat(stored["received_at"]) - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_a_clock_within_a_day_is_not_flagged(client):
    ahead = (datetime.now(timezone.utc) + timedelta(hours=23)).isoformat(timespec="seconds")
    [result] = post_batch(client, [make_item(created_at=ahead)]).json()["results"]
    assert result["status"] == "accepted" and "flags" not in result


def test_a_retired_station_and_a_wrong_clock_carry_both_flags(client):
    item = make_item(station_id="jincheng-old-market", created_at="1970-01-01T08:00:00+08:00")
    [result] = post_batch(client, [item]).json()["results"]
    assert result["flags"] == ["station_retired", "clock_skew"]


def test_the_kiosk_name_is_stored_on_every_record_of_its_batch(client, settings):
    items = [make_item(), make_item()]
    response = client.post("/api/submissions/batch", json={"device_id": "d-1", "kiosk": "hebin-tablet_2", "submissions": items})
    assert _statuses(response) == ["accepted", "accepted"]
    other = make_item()
    post_batch(client, [other])
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        assert [inbox.get(i["id"])["kiosk"] for i in items] == ["hebin-tablet_2"] * 2
        assert inbox.get(other["id"])["kiosk"] is None


def test_no_stored_record_holds_the_device_id(client, settings):
    post_batch(client, [make_item(), make_item()], device_id="d-lasting-browser-id")
    client.close()
    files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
    assert files and not any(b"d-lasting-browser-id" in p.read_bytes() for p in files)


def test_a_full_disk_answers_507_with_a_sentence_and_the_batch_goes_in_once_space_returns(client, monkeypatch):
    import errno

    from sync_server.store.embedded import tinystore

    earlier = make_item()
    post_batch(client, [earlier])
    real_write, full = tinystore.atomic_write, {"on": True}

    def atomic_write(path, payload):
        if full["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, payload)

    monkeypatch.setattr(tinystore, "atomic_write", atomic_write)
    waiting = [make_item(), make_item()]
    refused = post_batch(client, waiting)
    _assert_error(refused, 507, "insufficient_storage")
    assert "存储空间" in refused.json()["message"] and int(refused.headers["Retry-After"]) > 0
    assert health_here(client)["records"] == 1
    full["on"] = False
    assert _statuses(post_batch(client, waiting)) == ["accepted", "accepted"]
    assert _statuses(post_batch(client, [earlier])) == ["duplicate"]
    assert health_here(client)["records"] == 3
