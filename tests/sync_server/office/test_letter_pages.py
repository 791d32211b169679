"""工作建议函 over HTTP: made from picked matters, typed receipts or a sector's open matters,
shown before its number is taken, sent, printed, downloaded as Word, answered (by staff
or the department itself), overdue, withdrawn; and who may see which."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from docx import Document
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.letterbook import LetterBook
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.sync_server.conftest import make_item, store_items
from tests.sync_server.office.test_pages import PASSWORD, csrf, login

CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year


def _entry(status: str, **fields) -> dict:
    return {**new_entry("2026-12-01T00:00:00+00:00"), "status": status, "deadline": "2026-12-31", "track": "immediate",
            **fields}


@pytest.fixture
def world(settings, registry_file, quick_scrypt):
    """Five matters: three of 社会治安 dispatched to 区公安分局 (one closed), one of 教育卫生
    dispatched to it too, one of 教育卫生 with 区教育局; accounts for staff, both departments, a viewer."""
    data = settings.data_dir
    park = [make_item(station_id="rulin-industrial-park", feeling=f"园区门口晚上有人聚集，第{n}条") for n in range(3)]
    school = [make_item(station_id="hebin-primary", feeling=f"校门口摊贩占道，第{n}条") for n in range(2)]
    store_items(data, registry_file, park + school)
    TriageBook(data).put_many({
        park[0]["id"]: _entry("assigned", department="police", lead="区公安分局", summary="园区门口夜间聚集滋事"),
        park[1]["id"]: _entry("in_progress", department="police", lead="区公安分局"),
        park[2]["id"]: _entry("closed", department="police", lead="区公安分局", outcome="resolved"),
        school[0]["id"]: _entry("assigned", department="police", lead="区公安分局", summary="校门口摊贩占道经营"),
        school[1]["id"]: _entry("assigned", department="education", lead="区教育局"),
    })
    accounts = Accounts(data)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "公安联络员", sectors=["public-order"], department="police")
    accounts.add("edu", PASSWORD, "department", "教育联络员", sectors=["education-health"], department="education")
    accounts.add("boss", PASSWORD, "viewer", "领导")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        client.park, client.school, client.data = park, school, data
        yield client


def _receipts(client, items) -> list[str]:
    from sync_server.store.embedded.inbox import Inbox

    with Inbox(client.data, writer=False) as inbox:
        return [inbox.receipt(i["id"]) for i in items]


def _hidden(page: str, action: str) -> dict:
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page, re.S)[1]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def _send(client, **fields):
    """Preview, then send with the preview's own hidden fields; the response of the send."""
    preview = client.post("/office/letters/new", data={"csrf": csrf(client, "/office/letters/new"), **fields})
    assert preview.status_code == 200, preview.text
    return client.post("/office/letters/new", data=_hidden(preview.text, "/office/letters/new"), follow_redirects=False)


def test_picked_matters_fill_the_form_with_their_receipts_and_their_department(world):
    login(world, "amy")
    ids = [world.park[0]["id"], world.school[0]["id"]]
    page = world.get("/office/letters/new", params=[("ids", i) for i in ids]).text
    assert "\n".join(_receipts(world, [world.park[0], world.school[0]])) in page
    assert re.search(r'<option value="police" selected>区公安分局</option>', page)


def test_the_preview_takes_no_number_and_sending_takes_the_next(world):
    login(world, "amy")
    receipts = _receipts(world, world.park[:2])
    token = csrf(world, "/office/letters/new")
    preview = world.post("/office/letters/new", data={"csrf": token, "receipts": "\n".join(receipts), "department": ""})
    assert f"金扫黑办函〔{YEAR}〕1号" in preview.text and "区公安分局" in preview.text
    assert LetterBook(world.data, writer=False).all() == []
    sent = world.post("/office/letters/new", data=_hidden(preview.text, "/office/letters/new"), follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/office/letters/letter-{YEAR}-1?done=sent"
    page = world.get(sent.headers["location"]).text
    assert "已发出。" in page and "园区门口夜间聚集滋事" in page and f"金扫黑办函〔{YEAR}〕1号" in page
    [letter] = LetterBook(world.data, writer=False).all()
    assert letter["matters"] == [i["id"] for i in world.park[:2]] and letter["department"] == "police"


def test_a_sectors_open_matters_make_a_letter_without_closed_ones_or_other_sectors(world):
    login(world, "amy")
    assert _send(world, sector="public-order", receipts="").status_code == 303
    [letter] = LetterBook(world.data, writer=False).all()
    assert sorted(letter["matters"]) == sorted(i["id"] for i in world.park[:2])
    assert letter["department_name"] == "区公安分局" and "工作建议函" in letter["title"]


def test_an_unknown_receipt_or_a_closed_matter_is_refused_with_a_sentence(world):
    login(world, "amy")
    token = csrf(world, "/office/letters/new")
    unknown = world.post("/office/letters/new", data={"csrf": token, "receipts": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 400 and "没有找到对应的记录" in unknown.text
    closed = world.post("/office/letters/new", data={"csrf": token, "receipts": _receipts(world, world.park[2:])[0]})
    assert closed.status_code == 400 and "尚未办结的事项" in closed.text
    nothing = world.post("/office/letters/new", data={"csrf": token})
    assert nothing.status_code == 400 and "请至少选择一条事项" in nothing.text
    assert LetterBook(world.data, writer=False).all() == []


def test_sending_needs_the_session_token(world):
    login(world, "amy")
    forged = world.post("/office/letters/new", data={"csrf": "forged", "sector": "public-order", "confirm": "yes"})
    assert forged.status_code == 403 and LetterBook(world.data, writer=False).all() == []


def test_the_word_file_reads_back_as_the_letter(world):
    login(world, "amy")
    _send(world, receipts="\n".join(_receipts(world, world.park[:2])))
    response = world.get(f"/office/letters/letter-{YEAR}-1/docx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    doc = Document(io.BytesIO(response.content))
    lines = [p.text for p in doc.paragraphs if p.text]
    assert lines[1] == f"金扫黑办函〔{YEAR}〕1号" and lines[3] == "区公安分局：" and lines[2].endswith("工作建议函")
    today = datetime.now(CHINA).date()
    assert lines[lines.index(f"{today.year}年{today.month}月{today.day}日") - 1] == "金坛区扫黑除恶专项斗争领导小组办公室"
    receipts = [row.cells[1].text for row in doc.tables[0].rows[1:]]
    assert receipts == _receipts(world, world.park[:2])


def test_the_department_reads_and_answers_its_own_letters_only(world):
    login(world, "amy")
    _send(world, receipts="\n".join(_receipts(world, world.park[:1])))
    _send(world, receipts="\n".join(_receipts(world, world.school[1:])))  # to 区教育局
    login(world, "police")
    listing = world.get("/office/letters").text
    assert f"letter-{YEAR}-1" in listing and f"letter-{YEAR}-2" not in listing
    assert world.get(f"/office/letters/letter-{YEAR}-2").status_code == 404
    assert world.get(f"/office/letters/letter-{YEAR}-2/docx").status_code == 404
    other = world.post(f"/office/letters/letter-{YEAR}-2/answer", data={"csrf": csrf(world, "/office/letters"),
                                                                        "answer": "冒充答复", "on": "2026-12-08"})
    assert other.status_code == 404 and LetterBook(world.data, writer=False).get(f"letter-{YEAR}-2")["answer"] is None
    today = datetime.now(CHINA).date().isoformat()
    answered = world.post(f"/office/letters/letter-{YEAR}-1/answer",
                          data={"csrf": csrf(world, "/office/letters"), "answer": "已组织夜间巡逻，问题已整改。", "on": today},
                          follow_redirects=False)
    assert answered.status_code == 303
    page = world.get(answered.headers["location"]).text
    assert 'data-state="answered"' in page and "已组织夜间巡逻，问题已整改。" in page and "公安联络员" in page
    refused = world.post(f"/office/letters/letter-{YEAR}-1/void", data={"csrf": csrf(world, "/office/letters"), "reason": "x"})
    assert refused.status_code == 403


def test_a_viewer_sees_no_letters(world):
    login(world, "boss")
    assert world.get("/office/letters").status_code == 403


def test_an_unanswered_letter_past_its_answer_date_is_listed_as_overdue(world, settings):
    login(world, "amy")
    _send(world, receipts=_receipts(world, world.park[:1])[0])
    app_letters = world.app.state.store.letters
    app_letters.update(f"letter-{YEAR}-1", {"sent_on": "2026-01-01", "answer_due": "2026-01-16"})
    listing = world.get("/office/letters").text
    assert 'data-state="overdue">超期未复' in listing
    assert 'data-state="overdue"' not in world.get("/office/letters?state=answered").text


def test_a_withdrawn_letter_keeps_its_number_and_takes_no_answer(world):
    login(world, "amy")
    _send(world, receipts=_receipts(world, world.park[:1])[0])
    token = csrf(world, "/office/letters")
    empty = world.post(f"/office/letters/letter-{YEAR}-1/void", data={"csrf": token, "reason": " "})
    assert empty.status_code == 400 and "请填写作废的理由" in empty.text
    world.post(f"/office/letters/letter-{YEAR}-1/void", data={"csrf": token, "reason": "主送单位有误"})
    late = world.post(f"/office/letters/letter-{YEAR}-1/answer", data={"csrf": token, "answer": "已办", "on": "2026-12-08"})
    assert late.status_code == 400 and "已作废" in late.text
    assert _send(world, receipts=_receipts(world, world.park[:1])[0]).headers["location"].startswith(f"/office/letters/letter-{YEAR}-2")


def test_the_print_page_is_the_letter_alone_with_its_head_table_and_foot(world):
    login(world, "amy")
    _send(world, receipts="\n".join(_receipts(world, world.park[:2])))
    whole = world.get(f"/office/letters/letter-{YEAR}-1/print").text
    page = whole[whole.index("<main>"):]
    order = [page.index(s) for s in ('class="issuer"', f"金扫黑办函〔{YEAR}〕1号", 'class="title"', "区公安分局：",
                                     'class="sign"', "<table>")]
    assert order == sorted(order) and "@page { size: A4" in whole and "<header>" not in whole


def test_a_letter_sent_twice_from_one_preview_is_sent_once(world):
    login(world, "amy")
    preview = world.post("/office/letters/new", data={"csrf": csrf(world, "/office/letters/new"), "sector": "public-order"})
    fields = _hidden(preview.text, "/office/letters/new")
    first = world.post("/office/letters/new", data=fields, follow_redirects=False)
    again = world.post("/office/letters/new", data=fields, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"] == f"/office/letters/letter-{YEAR}-1?done=sent"
    assert len(LetterBook(world.data, writer=False).all()) == 1
