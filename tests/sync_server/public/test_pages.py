"""GET /api/public/matters and /results/: filters, paging, withdrawal, caching, privacy."""

from __future__ import annotations

import pytest

from sync_server.triage import new_entry
from tests.sync_server.conftest import make_item, post_batch

WORDS = "东门菜场那个姓钱的天天收保护费真吓人"
PHONE = "13912345678"


@pytest.fixture
def matter(client):
    """One matter at hebin-primary with distinctive words and a phone, stored for real."""
    item = make_item(feeling=WORDS, phone=PHONE, consent=True)
    answer = post_batch(client, [item]).json()
    receipt = answer["results"][0]["receipt"]
    client.app.state.readside.wait_ready()
    return item["id"], receipt


def publish(client, record_id, status="closed", title="东门菜场秩序整治", month="2026-11", verdict=None, **more):
    entry = {**new_entry("2026-11-03T08:00:00+00:00"), "status": status, "outcome": "resolved",
             "closed_at": "2026-11-20T08:00:00+00:00", "public_reply": "已处理", "verdict": verdict,
             "publication": {"title": title, "done": "市场监管所加强巡查，收费已停止。", "month": month,
                             "published_at": "2026-11-21T08:00:00+00:00", "station_id": "hebin-primary",
                             "sector": "education-health"}, **more}
    client.app.state.triage.put(record_id, entry)


def items(client, query=""):
    answer = client.get(f"/api/public/matters{query}")
    assert answer.status_code == 200
    return answer.json()


def test_a_publication_is_answered_at_once_with_staff_words_and_names(client, matter):
    publish(client, matter[0])
    body = items(client, "?station=hebin-primary")
    assert body["total"] == 1
    assert body["items"][0] == {"title": "东门菜场秩序整治", "done": "市场监管所加强巡查，收费已停止。", "month": "2026-11",
                                "station": "hebin-primary", "station_name": body["items"][0]["station_name"],
                                "sector": "education-health", "sector_name": "教育卫生"}
    assert body["items"][0]["station_name"]


def test_the_answer_may_be_cached_five_minutes(client, matter):
    assert client.get("/api/public/matters").headers["cache-control"] == "public, max-age=300"
    assert client.get("/results/").headers["cache-control"] == "public, max-age=300"


def test_an_unchanged_list_is_a_304_and_a_new_publication_is_a_fresh_answer(client, matter):
    first = client.get("/api/public/matters?station=hebin-primary")
    tag = first.headers["etag"]
    again = client.get("/api/public/matters?station=hebin-primary", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    publish(client, matter[0])
    fresh = client.get("/api/public/matters?station=hebin-primary", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != tag
    assert [item["title"] for item in fresh.json()["items"]] == ["东门菜场秩序整治"]


def test_withdrawal_disappears_from_api_and_page(client, matter):
    publish(client, matter[0])
    publish(client, matter[0], publication=None)
    assert items(client)["total"] == 0
    assert "东门菜场秩序整治" not in client.get("/results/").text


def test_declined_or_merged_matters_are_never_published(client, matter):
    publish(client, matter[0], status="declined")
    assert items(client)["total"] == 0
    publish(client, matter[0], outcome="merged", merged_into="x")
    assert items(client)["total"] == 0


def test_filters_narrow_and_bad_filters_are_ignored_not_echoed(client, matter):
    publish(client, matter[0])
    assert items(client, "?month=2026-10")["total"] == 0
    assert items(client, "?sector=finance")["total"] == 0
    assert items(client, "?station=elsewhere")["total"] == 0
    assert items(client, "?month=2026-11&sector=education-health")["total"] == 1
    assert items(client, "?month=<script>&page=x")["total"] == 1
    assert "<script>" not in client.get("/results/?station=<script>").text


def test_the_posts_rate_counts_satisfied_and_fair(client, matter):
    publish(client, matter[0], verdict={"choice": "fair", "source": "receipt", "round": 1})
    assert items(client, "?station=hebin-primary")["rate"] == {"percent": 100, "verdicts": 1, "good": 1}
    assert "100%" in client.get("/results/?station=hebin-primary").text


def test_results_page_pages_and_keeps_its_filters(client):
    records = [make_item() for _ in range(25)]
    post_batch(client, records)
    client.app.state.readside.wait_ready()
    for n, record in enumerate(records):
        publish(client, record["id"], title=f"事项{n:02d}")
    first = client.get("/results/?station=hebin-primary").text
    second = client.get("/results/?station=hebin-primary&page=2").text
    assert "第 1 / 2 页" in first and "station=hebin-primary&amp;page=2" in first
    assert second.count("<h2>") == 5


def test_no_public_answer_carries_the_citizens_words_receipt_phone_or_a_day(client, matter):
    record_id, receipt = matter
    publish(client, record_id, verdict={"choice": "satisfied", "source": "receipt", "comment": WORDS, "round": 1})
    answers = [client.get(path).text for path in
               ("/api/public/matters", "/api/public/matters?station=hebin-primary", "/results/",
                "/results/?station=hebin-primary&month=2026-11")]
    for text in answers:
        assert "东门菜场秩序整治" in text  # the publication itself shows
        for secret in (WORDS, receipt, PHONE, record_id, "2026-11-20", "2026-11-21", "2026-11-03"):
            assert secret not in text


def test_the_offices_publish_and_unpublish_actions_show_and_withdraw(client, matter):
    from datetime import datetime, timezone

    from sync_server.triage import apply

    record_id = matter[0]
    now = datetime(2026, 11, 21, 8, tzinfo=timezone.utc)
    closed = {**new_entry("2026-11-03T08:00:00+00:00"), "status": "closed", "outcome": "resolved",
              "closed_at": "2026-11-20T08:00:00+00:00", "public_reply": "已处理"}
    registry = client.app.state.stations.registry
    shown = apply(closed, "publish", {"public_title": "东门菜场秩序整治", "public_done": "已停止收费。"}, "admin", now,
                  registry=registry)
    client.app.state.triage.put(record_id, shown)
    body = items(client, "?station=hebin-primary&sector=education-health")
    assert [i["title"] for i in body["items"]] == ["东门菜场秩序整治"] and body["items"][0]["month"] == "2026-11"
    client.app.state.triage.put(record_id, apply(shown, "unpublish", {}, "admin", now, registry=registry))
    assert items(client)["total"] == 0
