"""The no-JavaScript road: a plain form POST and the receipt look-up."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.intake.receipt import receipt_for
from sync_server.settings import Settings
from sync_server.store.embedded.inbox import Inbox
from tests.sync_server.conftest import health_here, make_item, post_batch

FORM = {"station_id": "hebin-primary", "rating": "satisfied", "feeling": "路灯修好了", "suggestion": "", "phone": ""}


def _post_form(client, fields):
    return client.post("/api/submissions/form", data=fields)


def test_form_post_stores_the_record_and_answers_a_chinese_page_with_the_receipt(client, settings):
    response = _post_form(client, FORM)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "已提交" in response.text and 'lang="zh-CN"' in response.text
    client.close()
    with Inbox(settings.data_dir, writer=False) as inbox:
        [record] = list(inbox.records())
    assert record["feeling"] == "路灯修好了" and "device_id" not in record
    assert record["receipt"] in response.text


def _token(client, station="hebin-primary"):
    page = client.get(f"/s/{station}/")
    assert page.status_code == 200
    match = re.search(r'name="form_token" value="([^"]*)" data-form-token', page.text)
    return match.group(1)


def test_station_page_carries_a_fresh_token_on_every_get(client):
    first = client.get("/s/hebin-primary/")
    tokens = {_token(client), _token(client), re.search(r'name="form_token" value="([^"]*)"', first.text).group(1)}
    assert len(tokens) == 3 and all(len(t) == 32 for t in tokens)
    # A token-bearing page is this browser's alone: no shared cache may hand it on.
    assert first.headers["cache-control"] == "private, no-cache"
    assert 'value="" data-form-token' not in first.text


def test_form_resubmitted_by_reload_is_stored_once(client):
    fields = dict(FORM, form_token=_token(client))
    first, second = _post_form(client, fields), _post_form(client, fields)
    assert first.status_code == second.status_code == 200
    assert health_here(client)["records"] == 1
    assert re.search(r'class="receipt">([^<]+)<', first.text).group(1) == re.search(r'class="receipt">([^<]+)<', second.text).group(1)


def test_two_people_behind_one_address_with_the_same_words_are_two_records(client):
    first = _post_form(client, dict(FORM, form_token=_token(client)))
    second = _post_form(client, dict(FORM, form_token=_token(client)))
    receipts = {re.search(r'class="receipt">([^<]+)<', r.text).group(1) for r in (first, second)}
    assert len(receipts) == 2
    assert health_here(client)["records"] == 2


def test_form_from_a_page_without_a_token_still_posts_with_a_random_id(client):
    # A copy kept by the service worker or a static host has no fresh token.
    for token in ("", "not-a-token", None):
        fields = dict(FORM, feeling=f"缓存页面 {token}")
        if token is not None:
            fields["form_token"] = token
        assert _post_form(client, fields).status_code == 200
    assert health_here(client)["records"] == 3


def test_form_record_id_is_keyed_by_the_installation_not_the_address(tmp_path, registry_file, built_site):
    # One token from two addresses is one record; one token in two installations, two ids.
    ids = []
    for name in ("one", "two"):
        settings = Settings(data_dir=tmp_path / name, site_dir=built_site, registry=registry_file)
        app = create_app(settings)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            token = _token(client)
            for address in ("10.0.0.1", "10.0.0.2"):
                # A second client on the running app: the same form posted from another socket address.
                other = TestClient(app, base_url="http://127.0.0.1:8000", client=(address, 50000))
                assert other.post("/api/submissions/form", data=dict(FORM, form_token=token)).status_code == 200
            assert health_here(client)["records"] == 1
        with Inbox(settings.data_dir, writer=False) as inbox:
            [record] = list(inbox.records())
        assert "10.0.0" not in json.dumps(record)
        ids.append(record["id"])
    assert ids[0] != ids[1]


def test_refused_form_comes_back_with_what_was_typed_and_the_message_beside_the_field(client):
    typed = dict(FORM, feeling="路灯</textarea><script>alert(1)</script>", suggestion="多装几盏", phone="13812345678",
                 rating="fair", form_token=_token(client))
    response = _post_form(client, typed)
    assert response.status_code == 400
    page = response.text
    assert '<base href="/s/hebin-primary/">' in page
    assert "路灯&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page
    assert "<script>alert(1)" not in page
    assert ">多装几盏</textarea>" in page
    assert 'name="phone" value="13812345678"' in page and 'name="rating" value="fair" checked' in page
    assert '<details class="mq-contact" open' in page
    assert re.search(r'data-error-for="consent" role="alert">留电话需要勾选同意回访', page)
    assert re.search(r'data-field="consent" aria-invalid="true"', page)
    assert "您填写的内容没有被保存" not in page
    # A fresh token: the corrected form is a new submission, not the refused one.
    assert re.search(r'name="form_token" value="([^"]*)"', page).group(1) not in ("", typed["form_token"])


def test_empty_form_is_refused_with_the_message_for_the_whole_form(client):
    response = _post_form(client, {"station_id": "hebin-primary", "feeling": "", "suggestion": ""})
    assert response.status_code == 400
    assert re.search(r'data-error-for="form" role="alert">请至少选择满意度', response.text)


def test_form_with_a_bad_field_answers_the_reason_in_chinese_and_stores_nothing(client):
    response = _post_form(client, dict(FORM, phone="13812345678"))
    assert response.status_code == 400
    assert "勾选同意回访" in response.text
    assert health_here(client)["records"] == 0


def test_form_with_phone_and_consent_is_stored(client):
    response = _post_form(client, dict(FORM, phone="13812345678", consent="yes"))
    assert response.status_code == 200


def test_form_escapes_what_the_registry_and_citizen_wrote(client):
    response = _post_form(client, dict(FORM, station_id="<script>x</script>"))
    assert response.status_code == 400
    assert "<script>x</script>" not in response.text


def test_receipt_look_up_shows_status_date_and_nothing_else(client):
    item = make_item(feeling="秘密内容", phone="13812345678", consent=True)
    [result] = post_batch(client, [item]).json()["results"]
    answer = client.post("/api/receipts/lookup", json={"code": result["receipt"].lower().replace("-", " ")})
    assert answer.status_code == 200
    body = answer.json()
    assert body == {"ok": True, "receipt": result["receipt"], "status": "已收到", "updated_at": body["updated_at"], "reply": None,
                    "round": 1, "reopened": False, "verdict_open": False, "verdict": None, "maintained": None,
                    "question": None, "previous_reply": None}
    page = client.post("/api/receipts/lookup", data={"code": result["receipt"]})
    assert "已收到" in page.text
    full_width = result["receipt"].translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})  # a Chinese keyboard's
    assert client.post("/api/receipts/lookup", data={"code": full_width}).status_code == 200
    for secret in ("秘密内容", "13812345678", "hebin-primary", "河滨小学"):
        assert secret not in answer.text and secret not in page.text


def test_unknown_receipt_is_404(client):
    answer = client.post("/api/receipts/lookup", json={"code": receipt_for("00000000-0000-4000-8000-000000000000")})
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_receipt_look_ups_are_rate_limited_against_enumeration(client):
    codes = [client.post("/api/receipts/lookup", json={"code": "22222-22222"}).status_code for _ in range(12)]
    assert codes[:10] == [404] * 10 and codes[-1] == 429


def test_a_refused_form_post_answers_a_chinese_page_to_a_browser(client):
    response = client.post("/api/submissions/form", content=b"x", headers={"Content-Type": "text/plain", "Accept": "text/html"})
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("text/html") and "请通过页面上的表单提交" in response.text
