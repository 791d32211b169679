"""What every response carries: the site with its caching, gzip, security headers,
the same-origin rule for uploads, and logs that never hold what people wrote."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.web.middleware import ConcurrencyCap, printable, step_aside
from tests.sync_server.conftest import health_here, make_item, post_batch


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
    health = health_here(client)
    assert {**health, "office_ready": True} == {"ok": True, "records": 2, "office_ready": True, "problems": []}


def test_upload_from_a_sandboxed_frame_or_file_is_refused(client):
    response = post_batch(client, [make_item()], headers={"Origin": "null"})
    assert response.status_code == 403 and response.json()["error"] == "cross_origin"


def test_control_characters_in_a_path_cannot_forge_an_access_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="minqing.access")
    client.get("/nothing%0a2026-01-01 00:00:00 minqing.access GET /office/ 200 1ms%0d%1b[31m")
    lines = [r.getMessage() for r in caplog.records if r.name == "minqing.access"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0] and "\x1b" not in lines[0]
    assert "\\n2026-01-01" in lines[0]


def test_printable_escapes_controls_and_keeps_chinese():
    assert printable("/站点/a\nb\\c\x1b\u2028\x85") == "/站点/a\\nb\\\\c\\x1b\\u2028\\x85"


def test_past_the_concurrency_cap_requests_get_503_in_the_api_shape_and_a_chinese_page():
    release = asyncio.Event()

    async def slow(scope, receive, send):
        await release.wait()
        await PlainTextResponse("ok")(scope, receive, send)

    async def request(app, path: str) -> tuple[int, bytes]:
        sent: list = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    async def main():
        cap = ConcurrencyCap(slow, limit=2)
        first = [asyncio.create_task(request(cap, "/api/health")) for _ in range(2)]
        while cap.active < 2:
            await asyncio.sleep(0)
        api_status, api_body = await request(cap, "/api/health")
        page_status, page_body = await request(cap, "/office/")
        release.set()
        done = await asyncio.gather(*first)
        after = await request(cap, "/api/health")
        return api_status, json.loads(api_body), page_status, page_body.decode(), done, after

    api_status, api_body, page_status, page_body, done, after = asyncio.run(main())
    assert api_status == 503 and api_body["ok"] is False and api_body["error"] == "busy"
    assert page_status == 503 and "服务器正忙" in page_body
    assert [status for status, _ in done] == [200, 200] and after[0] == 200


def test_an_unexpected_error_logs_where_it_failed_never_its_message(settings, caplog):
    # An exception's message can carry what it was given (openpyxl puts a whole cell's
    # text in its error): the log names the exception and the place, not the message.
    from starlette.testclient import TestClient

    from sync_server.app import create_app

    caplog.set_level(logging.DEBUG)
    # From this machine: the answer that reads the inbox's count.
    with TestClient(create_app(settings), raise_server_exceptions=False, client=("127.0.0.1", 50000)) as client:
        class Leaky:
            def __len__(self):
                raise ValueError("群众的原话 13900003333\nFORGED LINE")

        real, client.app.state.inbox = client.app.state.inbox, Leaky()
        try:
            answer = client.get("/api/health")
        finally:
            client.app.state.inbox = real
    assert answer.status_code == 500 and answer.json()["error"] == "server_error"
    assert "ValueError" in caplog.text
    for secret in ("群众的原话", "13900003333", "FORGED LINE"):
        assert secret not in caplog.text


def test_a_request_that_stepped_aside_into_a_queue_of_its_own_no_longer_counts_under_the_cap():
    # A log-in waiting for the password hashing: its bounded queue is its own, and its
    # waiting must not leave an upload a 503.
    release, waiting_inside = asyncio.Event(), []

    async def app(scope, receive, send):
        if scope["path"] == "/office/login":
            step_aside(scope)
            step_aside(scope)  # once is all it gives back, however often it is called
            waiting_inside.append(scope["path"])
            await release.wait()
        await PlainTextResponse("ok")(scope, receive, send)

    async def request(cap, path: str) -> int:
        sent: list = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await cap({"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}, receive, send)
        return sent[0]["status"]

    async def main():
        cap = ConcurrencyCap(app, limit=1)
        waiting = [asyncio.create_task(request(cap, "/office/login")) for _ in range(3)]
        while len(waiting_inside) + sum(task.done() for task in waiting) < 3:  # each inside, or answered
            await asyncio.sleep(0)
        upload = await request(cap, "/api/submissions/batch")
        release.set()
        return upload, await asyncio.gather(*waiting), cap.active

    upload, logins, active = asyncio.run(main())
    assert upload == 200 and logins == [200, 200, 200] and active == 0
