"""The citizen's verdict and answer by receipt (`/api/receipts/verdict`, `/answer`), as
JSON and as a plain form: stored once per browser id, refused with a Chinese sentence
and never a 500, and never telling more than the look-up."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.sealing.keyring import Keyring
from sync_server.settings import Settings
from sync_server.triage import new_entry
from sync_server.web.ratelimit import Limit
from tests.sync_server.conftest import make_item, post_batch

FAST = {"n": 2**10, "r": 8, "p": 1}
CANARY = "金丝雀-评价-8K2"


def seed(client) -> dict:
    item = make_item()
    [result] = post_batch(client, [item]).json()["results"]
    return {**item, "receipt": result["receipt"]}


def put(client, record_id, **fields):
    """The record's triage entry as the office left it (stored as an office action stores it)."""
    state = client.app.state
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entry = {**(state.triage.entry(record_id) or new_entry(now)), "updated_at": now, **fields}
    state.readside.triage_changed(state.triage.put_many({record_id: entry}))
    return entry


def close(client, record_id, **fields):
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    closed = {"status": "closed", "outcome": "resolved", "public_reply": "已清理占道摊点。", "closed_at": now}
    return put(client, record_id, **{**closed, **fields})


def verdict(client, code, choice="dissatisfied", round_=1, step=None, **extra):
    body = {"code": code, "id": step or str(uuid.uuid4()), "round": round_, "choice": choice, **extra}
    return client.post("/api/receipts/verdict", json=body)


def lookup(client, code):
    return client.post("/api/receipts/lookup", json={"code": code}).json()


def steps(client, record_id, action):
    return [s for s in client.app.state.triage.entry(record_id)["history"] if s["action"] == action]


def test_a_verdict_on_a_closed_matter_is_kept_and_the_look_up_shows_it(client):
    record = seed(client)
    close(client, record["id"])
    before = lookup(client, record["receipt"])
    assert (before["verdict_open"], before["verdict"], before["round"], before["reopened"]) == (True, None, 1, False)
    answer = verdict(client, record["receipt"], comment="还是有人摆摊")
    assert answer.status_code == 200 and answer.json() == {"ok": True, "status": "accepted"}
    after = lookup(client, record["receipt"])
    assert after["verdict"]["choice"] == "不满意" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", after["verdict"]["changeable_until"])
    assert "还是有人摆摊" not in str(after) and set(after) == {"ok", "receipt", "status", "updated_at", "reply", "round",
                                                          "reopened", "verdict_open", "verdict", "maintained", "question", "previous_reply"}
    entry = client.app.state.triage.entry(record["id"])
    assert entry["dissatisfied"] is True and entry["verdict"]["source"] == "receipt"


def test_the_same_verdict_sent_twice_is_counted_once(client):
    record = seed(client)
    close(client, record["id"])
    step = str(uuid.uuid4())
    assert verdict(client, record["receipt"], step=step).json()["status"] == "accepted"
    again = verdict(client, record["receipt"], step=step)
    assert again.status_code == 200 and again.json() == {"ok": True, "status": "duplicate"}
    assert len(steps(client, record["id"], "verdict")) == 1


@pytest.mark.parametrize("state, code, status, message", [
    ({"status": "in_progress"}, "still_open", 409, "这件事还在办理中，办结后才能评价。"),
    ({"round": 2}, "old_round", 409, "这件事已重新办理，请对新的办理结果评价。"),
])
def test_a_verdict_for_an_open_matter_or_an_old_round_is_refused(client, state, code, status, message):
    record = seed(client)
    close(client, record["id"], **state)
    answer = verdict(client, record["receipt"])
    assert answer.status_code == status and answer.json() == {"ok": False, "error": code, "message": message}
    assert steps(client, record["id"], "verdict") == []


def test_a_verdict_for_a_matter_never_handled_is_still_open(client):
    record = seed(client)
    assert verdict(client, record["receipt"]).json()["error"] == "still_open"


def test_a_verdict_changed_after_15_days_is_too_late(client):
    record = seed(client)
    long_ago = (datetime.now(timezone.utc) - timedelta(days=20)).isoformat(timespec="seconds")
    close(client, record["id"], verdict={"choice": "fair", "source": "receipt", "round": 1, "at": long_ago,
                                         "first_at": long_ago, "comment": "", "comment_sealed": None})
    answer = verdict(client, record["receipt"], choice="satisfied")
    assert answer.status_code == 409 and answer.json()["error"] == "too_late"
    assert lookup(client, record["receipt"])["verdict_open"] is False


def test_an_unknown_code_is_not_found_like_the_look_up(client):
    answer = verdict(client, "22222-22222")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert client.post("/api/receipts/lookup", json={"code": "22222-22222"}).status_code == 404


@pytest.mark.parametrize("body, code", [
    ({"choice": "great"}, "bad_choice"),
    ({"choice": ["dissatisfied"]}, "bad_choice"),
    ({"round": "1"}, "bad_shape"),
    ({"round": 1.5}, "bad_shape"),
    ({"round": True}, "bad_shape"),
    ({"id": "not-a-uuid"}, "bad_shape"),
    ({"id": 12345}, "bad_shape"),
    ({"comment": 7}, "bad_shape"),
    ({"comment": {"a": 1}}, "bad_shape"),
    ({"extra": "x"}, "bad_shape"),
    ({"comment": "坏\ud800字"}, "invalid_text"),
    ({"comment": "字" * 10_000}, "too_long"),
    ({"comment": "\u202e反转"}, "invalid_text"),
])
def test_hostile_or_malformed_verdicts_are_refused_with_a_reason_and_never_a_500(client, body, code):
    record = seed(client)
    close(client, record["id"])
    full = {"code": record["receipt"], "id": str(uuid.uuid4()), "round": 1, "choice": "fair", **body}
    # As a client sends it: JSON may carry a lone surrogate as an escape.
    answer = client.post("/api/receipts/verdict", content=json.dumps(full).encode(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"] == code and answer.json()["message"]
    assert steps(client, record["id"], "verdict") == []


@pytest.mark.parametrize("content, kind", [
    (b"[1, 2]", "application/json"), (b"{not json", "application/json"), (b'"code"', "application/json"),
    (b"code=%ED%A0%80", "application/x-www-form-urlencoded"), (b"x", "text/plain"),
])
def test_bodies_that_are_no_step_are_refused(client, content, kind):
    answer = client.post("/api/receipts/verdict", content=content, headers={"Content-Type": kind})
    assert 400 <= answer.status_code < 500


def test_a_huge_body_is_refused_before_it_is_read(client):
    record = seed(client)
    close(client, record["id"])
    answer = verdict(client, record["receipt"], comment="字" * 100_000)
    assert answer.status_code == 413


def test_markup_in_a_comment_is_kept_as_text_and_never_shown_back(client):
    record = seed(client)
    close(client, record["id"])
    markup = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    assert verdict(client, record["receipt"], comment=markup).json()["status"] == "accepted"
    assert client.app.state.triage.entry(record["id"])["verdict"]["comment"] == markup  # a sector without a key
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "<script>alert" not in page and "onerror" not in page


def test_lookup_fields_for_reopened_maintained_and_question(client):
    record = seed(client)
    put(client, record["id"], status="assigned", round=2)
    answer = lookup(client, record["receipt"])
    assert (answer["status"], answer["reopened"], answer["round"], answer["verdict_open"]) == ("重新办理中", True, 2, False)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    close(client, record["id"], maintained={"reason": "已依法处理", "at": now, "round": 2},
          questions=[{"id": "q1", "asked_at": now, "text": "请问是哪天？", "answer": None}])
    answer = lookup(client, record["receipt"])
    assert answer["status"] == "已办结" and answer["reopened"] is False and answer["maintained"] == "已依法处理"
    assert answer["question"] == {"id": "q1", "text": "请问是哪天？"}


def test_a_merged_record_never_shows_the_other_citizens_question_or_verdict(client):
    target, duplicate = seed(client), seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    close(client, target["id"], questions=[{"id": "q1", "asked_at": now, "text": "另一位群众的问题", "answer": None}],
          verdict={"choice": "fair", "source": "receipt", "round": 1, "at": now, "first_at": now, "comment": "",
                   "comment_sealed": None})
    put(client, duplicate["id"], status="closed", outcome="merged", merged_into=target["id"])
    answer = lookup(client, duplicate["receipt"])
    assert answer["status"] == "已办结" and answer["question"] is None and answer["verdict"] is None
    assert answer["verdict_open"] is False
    assert verdict(client, duplicate["receipt"]).json()["error"] == "merged_citizen"


def test_an_answer_fills_the_question_and_flags_the_matter(client):
    record = seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    put(client, record["id"], status="in_progress", questions=[{"id": "q1", "asked_at": now, "text": "哪天？", "answer": None}])
    step = str(uuid.uuid4())
    body = {"code": record["receipt"], "id": step, "question": "q1", "text": "周五晚上九点"}
    assert client.post("/api/receipts/answer", json=body).json() == {"ok": True, "status": "accepted"}
    assert client.post("/api/receipts/answer", json=body).json() == {"ok": True, "status": "duplicate"}
    entry = client.app.state.triage.entry(record["id"])
    assert entry["citizen_added"] is True and entry["questions"][0]["answer"]["text"] == "周五晚上九点"
    assert lookup(client, record["receipt"])["question"] is None
    other = client.post("/api/receipts/answer", json={**body, "id": str(uuid.uuid4())})
    assert other.status_code == 409 and other.json()["error"] == "answered"


@pytest.mark.parametrize("body, status, code", [
    ({"question": "q9"}, 409, "no_question"), ({"text": "  "}, 400, "missing_text"),
    ({"text": "字" * 10_000}, 400, "too_long"), ({"question": 1}, 400, "bad_shape"),
])
def test_a_bad_answer_is_refused(client, body, status, code):
    record = seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    put(client, record["id"], status="in_progress", questions=[{"id": "q1", "asked_at": now, "text": "哪天？", "answer": None}])
    full = {"code": record["receipt"], "id": str(uuid.uuid4()), "question": "q1", "text": "周五", **body}
    answer = client.post("/api/receipts/answer", json=full)
    assert answer.status_code == status and answer.json()["error"] == code


def _form(page: str, action: str) -> dict[str, str]:
    form = re.search(rf'<form method="post" action="/api/receipts/{action}">(.*?)</form>', page, re.S)[1]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_the_no_javascript_verdict_goes_from_the_look_up_page_and_a_reload_counts_once(client):
    record = seed(client)
    close(client, record["id"])
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "您对处理结果满意吗？" in page and 'value="satisfied"' in page and 'value="fair"' in page
    fields = {**_form(page, "verdict"), "choice": "fair", "comment": ""}
    answer = client.post("/api/receipts/verdict", data=fields)
    assert answer.status_code == 200 and "text/html" in answer.headers["content-type"]
    assert "评价已收到" in answer.text and "基本满意" in answer.text
    reloaded = client.post("/api/receipts/verdict", data=fields)
    assert reloaded.status_code == 200 and "没有重复计算" in reloaded.text
    assert len(steps(client, record["id"], "verdict")) == 1
    assert "您的评价：<strong>基本满意</strong>" in client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text


def test_a_no_javascript_refusal_is_a_chinese_page_never_json(client):
    record = seed(client)
    put(client, record["id"], status="in_progress")
    fields = {"code": record["receipt"], "id": str(uuid.uuid4()), "round": "1", "choice": "fair", "comment": ""}
    answer = client.post("/api/receipts/verdict", data=fields)
    assert answer.status_code == 409 and "text/html" in answer.headers["content-type"]
    assert "这件事还在办理中，办结后才能评价。" in answer.text
    unticked = client.post("/api/receipts/verdict", data={k: v for k, v in fields.items() if k != "choice"})
    assert unticked.status_code == 400 and "请选择满意、基本满意或不满意。" in unticked.text
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "您对处理结果满意吗？" not in page  # no verdict form while the matter is open


def test_the_no_javascript_answer_form_answers_the_question(client):
    record = seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    put(client, record["id"], status="in_progress", questions=[{"id": "q1", "asked_at": now, "text": "具体是哪天？", "answer": None}])
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "办公室需要您补充" in page and "具体是哪天？" in page
    answer = client.post("/api/receipts/answer", data={**_form(page, "answer"), "text": "上周五"})
    assert answer.status_code == 200 and "补充已收到" in answer.text
    assert client.app.state.triage.entry(record["id"])["citizen_added"] is True


@pytest.fixture
def sealed_client(tmp_path, registry_file, built_site):
    settings = Settings(data_dir=tmp_path / "data", site_dir=built_site, registry=registry_file)
    (tmp_path / "data").mkdir()
    Keyring(settings.data_dir, scrypt=FAST).init(["education-health"])  # hebin-primary's sector
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


def test_comments_and_answers_are_sealed_on_arrival_where_the_sector_has_a_key(sealed_client, tmp_path):
    client = sealed_client
    record = seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    close(client, record["id"], questions=[{"id": "q1", "asked_at": now, "text": "哪天？", "answer": None}])
    assert verdict(client, record["receipt"], comment=CANARY).json()["status"] == "accepted"
    body = {"code": record["receipt"], "id": str(uuid.uuid4()), "question": "q1", "text": CANARY + "答"}
    assert client.post("/api/receipts/answer", json=body).json()["status"] == "accepted"
    entry = client.app.state.triage.entry(record["id"])
    assert entry["verdict"]["comment"] == "" and entry["verdict"]["comment_sealed"]["kind"] == "verdict"
    assert entry["questions"][0]["answer"]["text"] is None and entry["questions"][0]["answer"]["sealed"]["kind"] == "answer"
    on_disk = "\n".join(p.read_text("utf-8", errors="replace") for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert CANARY not in on_disk and CANARY not in repr(entry)


def test_verdicts_share_the_submissions_rate_limit_and_say_429(tmp_path, registry_file, built_site):
    settings = Settings(data_dir=tmp_path / "data", site_dir=built_site, registry=registry_file,
                        address_limit=Limit(rate=0.001, burst=3))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        record = seed(client)
        close(client, record["id"])
        answers = [verdict(client, record["receipt"]) for _ in range(3)]
        assert answers[-1].status_code == 429 and answers[-1].json()["error"] == "rate_limited"
        assert "Retry-After" in answers[-1].headers


def test_verdicts_sent_at_once_are_each_stored_once_in_the_order_the_lock_gave(client):
    from concurrent.futures import ThreadPoolExecutor

    record = seed(client)
    close(client, record["id"])
    ids = [str(uuid.uuid4()) for _ in range(6)]  # a verdict and its 5 changes, the most a round takes
    with ThreadPoolExecutor(8) as pool:  # each id twice, all at once: a retry racing its original
        answers = list(pool.map(lambda step: verdict(client, record["receipt"], choice="fair", step=step), ids * 2))
    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["status"] for a in answers) == ["accepted"] * 6 + ["duplicate"] * 6
    stored = steps(client, record["id"], "verdict")
    assert sorted(s["client_id"] for s in stored) == sorted(ids)


def test_words_for_a_post_no_longer_in_the_registry_are_never_stored_plain_once_there_are_keys():
    from types import SimpleNamespace

    from sync_server.intake.citizen_api import _sealed
    from sync_server.web.errors import ApiError

    def state(kids):
        sealer = SimpleNamespace(current_kids=lambda: kids, key_for=lambda sector: None)
        return SimpleNamespace(stations=SimpleNamespace(station=lambda sid: None), intake=SimpleNamespace(sealer=sealer))

    record = {"id": "r", "station_id": "gone", "created_at": "x", "rating": None}
    fields = {"client_id": str(uuid.uuid4()), "comment": CANARY, "choice": "fair", "round": 1}
    with pytest.raises(ApiError) as info:
        _sealed(state({"market": "k"}), record, "verdict", fields)
    assert info.value.code == "unsealable" and info.value.status == 409
    assert _sealed(state({}), record, "verdict", fields) == fields  # no keys at all: plain, as submissions
    assert _sealed(state({"market": "k"}), record, "verdict", {**fields, "comment": ""})["comment"] == ""


def test_a_reopened_matter_shows_the_first_rounds_reply_as_the_last_rounds_not_as_the_answer(client):
    record = seed(client)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    put(client, record["id"], status="assigned", round=2, public_reply="已修好路灯。",
        history=[{"at": now, "by": "amy", "action": "reopen", "from": "closed", "to": "assigned", "note": "重新核查"}])
    answer = lookup(client, record["receipt"])
    assert answer["status"] == "重新办理中" and answer["reply"] is None and answer["previous_reply"] == "已修好路灯。"
    page = client.post("/api/receipts/lookup", data={"code": record["receipt"]}).text
    assert "上一轮的答复：已修好路灯。" in page and "<p>答复：" not in page


def test_a_verdict_changes_at_most_five_times_in_its_round(client):
    record = seed(client)
    close(client, record["id"])
    choices = ["satisfied", "dissatisfied"] * 3
    answers = [verdict(client, record["receipt"], choice=choice) for choice in choices]
    assert [a.json().get("status") for a in answers[:6]] == ["accepted"] * 6
    refused = verdict(client, record["receipt"], choice="fair")
    assert refused.status_code == 409 and refused.json()["error"] == "too_many_changes"
    assert len(steps(client, record["id"], "verdict")) == 6
    assert lookup(client, record["receipt"])["verdict_open"] is False
