# ruff: noqa: F811 - the `office` fixture, imported from test_pages, is each test's argument
"""The record page's 群众说了算 part over HTTP: the verdict history and the questions,
and the forms 重新办理 and 公开 (each asked twice), 维持原处理, 请群众补充, 已阅补充,
撤回公开 and 回访 with 未接通, each saying what it did; a department reads the history
and marks an answer read, but takes none of the office's decisions."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sync_server.dispatch.rules import CITIZEN
from sync_server.triage import apply
from tests.sync_server.office.test_pages import act, csrf, dispatch_in_store, login, office, seed  # noqa: F401
from tests.sync_server.office.test_verdict_flag_pages import flagged


def _entry(state, record_id):
    return state.readside.row(record_id, state.stations.registry, datetime.now(timezone.utc).date()).triage


def _closed(office, department: str | None = None, **fields) -> dict:
    # A consented phone: 回访 by phone is offered only then.
    record = seed(office, feeling="路灯坏了一个月", phone="13800138000", consent=True)
    state = office.app.state
    if department:
        dispatch_in_store(state, record["id"], department)
    flagged(state, record["id"], status="closed", outcome="resolved", public_reply="已修好路灯。",
            closed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields)
    return record


def _citizen(state, record_id, action, **fields):
    entry = apply(_entry(state, record_id), action, fields, "citizen", datetime.now(timezone.utc), account=CITIZEN)
    state.readside.triage_changed(state.triage.put_many({record_id: entry}))


def _forms(page: str) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', page))


def test_a_closed_matter_offers_ask_call_publish_and_reopen_but_not_maintain(office):
    record = _closed(office)
    login(office, "amy")
    forms = _forms(office.get(f"/office/records/{record['id']}").text)
    assert {"ask", "follow_up", "publish", "reopen"} <= forms
    assert not forms & {"maintain", "seen_answer", "unpublish"}


def test_the_call_form_offers_no_answer_and_a_no_answer_call_is_counted(office):
    record = _closed(office)
    login(office, "amy")
    assert "未接通" in office.get(f"/office/records/{record['id']}").text
    response = act(office, record["id"], "follow_up", satisfaction="no_answer")
    assert response.headers["location"].endswith("?done=follow_up")
    page = office.get(response.headers["location"]).text
    assert "回访结果已记录" in page and re.search(r"data-calls>\s*1\s*<", page)


def test_a_receipt_verdict_and_its_change_show_with_source_and_comment_as_text(office):
    record = _closed(office)
    state = office.app.state
    _citizen(state, record["id"], "verdict", choice="dissatisfied", round="1", client_id="c-11111111",
             comment="<script>alert(1)</script>还是不亮")
    _citizen(state, record["id"], "verdict", choice="fair", round="1", client_id="c-22222222")
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    history = page[page.index("data-verdicts"):]
    assert "群众评价" in history and "修改评价" in history and "凭回执" in history
    assert "&lt;script&gt;alert(1)&lt;/script&gt;还是不亮" in history and "<script>alert" not in page


def test_reopen_is_asked_twice_then_starts_a_new_round_with_its_deadline(office):
    record = _closed(office, dissatisfied=True)
    login(office, "amy")
    token = csrf(office, f"/office/records/{record['id']}")
    first = office.post(f"/office/records/{record['id']}/action",
                        data={"csrf": token, "action": "reopen", "reopen_reason": "群众不满意，重新核查"})
    assert first.status_code == 200 and "确认重新办理" in first.text and "群众不满意，重新核查" in first.text
    assert _entry(office.app.state, record["id"])["round"] == 1  # nothing changed yet
    response = act(office, record["id"], "reopen", reopen_reason="群众不满意，重新核查", deadline="2099-01-31")
    assert response.headers["location"].endswith("?done=reopen")
    entry = _entry(office.app.state, record["id"])
    assert entry["round"] == 2 and entry["deadline"] == "2099-01-31" and not entry["dissatisfied"]
    page = office.get(response.headers["location"]).text
    assert "已重新办理" in page and "第 2 轮" in page


def test_maintain_is_offered_only_when_dissatisfied_and_clears_the_flag_with_its_public_reason(office):
    record = _closed(office, dissatisfied=True)
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert "maintain" in _forms(page) and "群众查询时可看到" in page
    response = act(office, record["id"], "maintain", maintain_reason="路灯已修复，经现场核实正常")
    assert response.headers["location"].endswith("?done=maintain")
    page = office.get(response.headers["location"]).text
    assert 'data-flag="dissatisfied"' not in page and "路灯已修复，经现场核实正常" in page


def test_publish_says_what_is_published_is_asked_twice_and_can_be_withdrawn(office):
    record = _closed(office)
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    form = page[page.index('data-action="publish"'):]
    form = form[:form.index("</form>")]
    assert "只公开工作人员填写的" in form and "不公开群众的原话" in form and "只显示到月" in form
    token = csrf(office, f"/office/records/{record['id']}")
    first = office.post(f"/office/records/{record['id']}/action",
                        data={"csrf": token, "action": "publish", "public_title": "修复园区路灯",
                              "public_done": "更换了 3 盏路灯"})
    assert first.status_code == 200 and "确认公开" in first.text and "修复园区路灯" in first.text
    response = act(office, record["id"], "publish", public_title="修复园区路灯", public_done="更换了 3 盏路灯")
    assert response.headers["location"].endswith("?done=publish")
    page = office.get(response.headers["location"]).text
    assert "data-published" in page and "unpublish" in _forms(page)
    response = act(office, record["id"], "unpublish")
    assert response.headers["location"].endswith("?done=unpublish")
    assert _entry(office.app.state, record["id"])["publication"] is None


def test_a_question_then_the_citizens_answer_flags_the_matter_until_staff_read_it(office):
    record = _closed(office)
    login(office, "amy")
    response = act(office, record["id"], "ask", question="请问是哪一盏路灯？")
    assert response.headers["location"].endswith("?done=ask")
    _citizen(office.app.state, record["id"], "answer", question="q1", client_id="c-33333333", text="东门第二盏")
    page = office.get(f"/office/records/{record['id']}").text
    questions = page[page.index("data-questions"):]
    assert "请问是哪一盏路灯？" in questions and "东门第二盏" in questions
    assert 'data-flag="citizen_added"' in page and "seen_answer" in _forms(page)
    response = act(office, record["id"], "seen_answer")
    assert response.headers["location"].endswith("?done=seen_answer")
    assert 'data-flag="citizen_added"' not in office.get(response.headers["location"]).text


def test_a_department_marks_an_answer_read_but_takes_none_of_the_offices_decisions(office):
    police = office.app.state.stations.registry.lead_of("public-order").id
    from sync_server.store.embedded.accounts import Accounts
    from tests.sync_server.office.test_pages import PASSWORD
    Accounts(office.app.state.settings.data_dir).add("pol", PASSWORD, "department", "公安李科长", department=police)
    record = _closed(office, department=police, dissatisfied=True, citizen_added=True)
    login(office, "pol")
    forms = _forms(office.get(f"/office/records/{record['id']}").text)
    assert "seen_answer" in forms
    assert not forms & {"reopen", "maintain", "publish", "ask", "follow_up"}


def test_hostile_stored_words_show_as_text_and_never_break_the_page(office):
    """A comment or an answer as a hand-edited log may hold them: markup, control
    characters, 10,000 characters (the log cannot hold a lone surrogate). The page
    shows them as text."""
    record = _closed(office)
    state = office.app.state
    hostile = "<img src=x onerror=alert(1)>\x1b[2J" + "长" * 10_000
    entry = _entry(state, record["id"])
    step = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "by": "citizen", "by_display": "群众",
            "action": "verdict", "from": "closed", "to": "closed", "note": "不满意", "client_id": "c-44444444",
            "choice": "dissatisfied", "round": 1, "comment": hostile, "comment_sealed": None}
    questions = [{"id": "q1", "asked_at": step["at"], "text": "哪一盏？",
                  "answer": {"at": step["at"], "text": hostile, "sealed": None}}]
    flagged(state, record["id"], history=[*entry["history"], step], questions=questions)
    login(office, "amy")
    response = office.get(f"/office/records/{record['id']}")
    assert response.status_code == 200
    assert "<img src=x" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert "\x1b" not in response.text


def test_a_matter_without_a_consented_phone_offers_no_call(office):
    record = seed(office, feeling="路灯坏了一个月")
    flagged(office.app.state, record["id"], status="closed", outcome="resolved", public_reply="已修好路灯。",
            closed_at="2026-11-20T08:00:00+00:00")
    login(office, "amy")
    assert 'data-action="follow_up"' not in office.get(f"/office/records/{record['id']}").text
    # A hand-made post that says the phone is there is not believed.
    act(office, record["id"], "follow_up", satisfaction="satisfied", phone_on_record="yes")
    assert _entry(office.app.state, record["id"])["calls"] == 0
