"""The no-JavaScript road: a plain form POST and the receipt look-up."""

from __future__ import annotations

from sync_server.inbox import Inbox
from sync_server.receipt import receipt_for
from tests.sync_server.conftest import make_item, post_batch

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


def test_form_resubmitted_by_reload_is_stored_once(client):
    first, second = _post_form(client, FORM), _post_form(client, FORM)
    assert first.status_code == second.status_code == 200
    assert client.get("/api/health").json()["records"] == 1


def test_form_with_a_bad_field_answers_the_reason_in_chinese_and_stores_nothing(client):
    response = _post_form(client, dict(FORM, phone="13812345678"))
    assert response.status_code == 400
    assert "勾选同意回访" in response.text
    assert client.get("/api/health").json()["records"] == 0


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
    assert body == {"ok": True, "receipt": result["receipt"], "status": "已收到", "updated_at": body["updated_at"], "reply": None}
    page = client.post("/api/receipts/lookup", data={"code": result["receipt"]})
    assert "已收到" in page.text
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
