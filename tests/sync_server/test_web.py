"""What every response carries: the site with its caching, gzip, security headers,
the same-origin rule for uploads, and logs that never hold what people wrote."""

from __future__ import annotations

import logging
from dataclasses import replace

from starlette.testclient import TestClient

from sync_server.app import create_app
from tests.sync_server.conftest import make_item, post_batch


def test_station_page_is_served_gzipped(client):
    response = client.get("/s/hebin-primary/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "河滨小学" in response.text
    assert response.headers["content-encoding"] == "gzip"


def test_hashed_assets_are_cached_for_a_year_and_the_service_worker_never(client, built_site):
    css = next((built_site / "assets" / "stylesheets").glob("main.*.min.css")).name
    assert "immutable" in client.get(f"/assets/stylesheets/{css}").headers["cache-control"]
    assert client.get("/sw.js").headers["cache-control"] == "no-cache"
    # A station page carries a one-time form token (formpage): revalidated, and private.
    assert client.get("/s/hebin-primary/").headers["cache-control"] == "private, no-cache"


def test_every_response_carries_a_same_origin_content_security_policy(client, built_site):
    for path in ("/", "/s/hebin-primary/", "/api/health", "/api/nothing"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "http" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_csp_allows_exactly_the_inline_scripts_the_build_hashed(client, built_site):
    import json

    hashes = json.loads((built_site / "csp.json").read_text())["script-src"]
    assert hashes
    csp = client.get("/").headers["content-security-policy"]
    assert all(h in csp for h in hashes)


def test_upload_from_another_origin_is_refused(client):
    response = post_batch(client, [make_item()], headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and response.json()["error"] == "cross_origin"
    form = client.post("/api/submissions/form", data={"station_id": "hebin-primary", "rating": "fair"},
                       headers={"Origin": "https://evil.example"})
    assert form.status_code == 403


def test_upload_from_the_same_origin_is_accepted(client):
    response = post_batch(client, [make_item()], headers={"Origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200


def test_listed_origin_may_upload_without_credentials(settings):
    allowed = replace(settings, allowed_origins=("https://posts.example",))
    with TestClient(create_app(allowed), base_url="http://127.0.0.1:8000") as client:
        preflight = client.options(
            "/api/submissions/batch",
            headers={"Origin": "https://posts.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://posts.example"
        assert "access-control-allow-credentials" not in preflight.headers
        response = post_batch(client, [make_item()], headers={"Origin": "https://posts.example"})
        assert response.status_code == 200
        other = client.options(
            "/api/submissions/batch",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_no_submission_text_or_phone_reaches_any_log_line(client, caplog):
    caplog.set_level(logging.DEBUG)
    post_batch(client, [make_item(feeling="极其私密的话", phone="13900001111", consent=True)])
    client.post("/api/submissions/form", data={"station_id": "hebin-primary", "feeling": "另一句私密的话",
                                               "phone": "13900002222", "consent": "yes"})
    assert "POST /api/submissions/batch 200" in caplog.text
    for secret in ("极其私密的话", "13900001111", "另一句私密的话", "13900002222"):
        assert secret not in caplog.text


def test_health_reports_the_record_count(client):
    post_batch(client, [make_item(), make_item()])
    assert client.get("/api/health").json() == {"ok": True, "records": 2}


def test_upload_from_a_sandboxed_frame_or_file_is_refused(client):
    response = post_batch(client, [make_item()], headers={"Origin": "null"})
    assert response.status_code == 403 and response.json()["error"] == "cross_origin"
