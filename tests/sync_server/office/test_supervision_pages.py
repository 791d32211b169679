"""督办 over HTTP: a dispatched matter gets a numbered 督办单, named on the matter and in
its history; printed on A4; a matter is supervised once; a sheet a kill left unnamed is
taken again rather than a new number."""

from __future__ import annotations

import io

from docx import Document

from sync_server.store.embedded.letterbook import LetterBook
from sync_server.store.embedded.triagebook import TriageBook
from tests.sync_server.office.test_letter_pages import YEAR, world  # noqa: F401 - the fixture
from tests.sync_server.office.test_pages import csrf, login


def _supervise(client, record_id: str, **fields):
    return client.post(f"/office/records/{record_id}/supervise",
                       data={"csrf": csrf(client, "/office/records"), **fields}, follow_redirects=False)


def test_supervising_numbers_a_sheet_and_names_it_on_the_matter(world):  # noqa: F811
    login(world, "amy")
    matter = world.park[0]["id"]
    response = _supervise(world, matter, requirements="请于本周内查明情况并书面报告。")
    assert response.status_code == 303 and response.headers["location"] == f"/office/letters/supervision-{YEAR}-1?done=supervised"
    number = f"金扫黑办督〔{YEAR}〕1号"
    entry = TriageBook(world.data).entry(matter)
    assert entry["supervision"] == number and entry["history"][-1]["action"] == "supervise"
    assert entry["history"][-1]["by_display"] == "王干事"
    # In UTC like every other step and the entry's change time: they are compared as text.
    assert entry["history"][-1]["at"].endswith("+00:00") and entry["updated_at"].endswith("+00:00")
    record = world.get(f"/office/records/{matter}").text
    assert f"督办单 {number}" in record and f"/office/letters/supervision-{YEAR}-1/print" in record
    sheet = world.get(f"/office/letters/supervision-{YEAR}-1/print").text
    for words in (number, "督 办 单", "区公安分局", "园区门口夜间聚集滋事", "2026-12-31", "请于本周内查明情况并书面报告。",
                  "金坛区扫黑除恶专项斗争领导小组办公室"):
        assert words in sheet, words
    lines = [p.text for p in Document(io.BytesIO(world.get(f"/office/letters/supervision-{YEAR}-1/docx").content)).paragraphs]
    assert number in lines and "督办要求：请于本周内查明情况并书面报告。" in lines


def test_a_matter_is_supervised_once_and_only_when_dispatched(world):  # noqa: F811
    login(world, "amy")
    _supervise(world, world.park[0]["id"])
    again = _supervise(world, world.park[0]["id"])
    assert again.status_code == 400 and "已经督办" in again.text
    closed = _supervise(world, world.park[2]["id"])
    assert closed.status_code == 400 and "可以督办" in closed.text
    assert [s["n"] for s in LetterBook(world.data, writer=False).all()] == [1]


def test_a_department_cannot_supervise(world):  # noqa: F811
    login(world, "police")
    assert _supervise(world, world.park[0]["id"]).status_code == 403
    assert TriageBook(world.data).entry(world.park[0]["id"]).get("supervision") is None


def test_a_sheet_a_kill_left_unnamed_is_taken_again(world):  # noqa: F811
    # The sheet was written, then the server died before the matter named it.
    matter = world.park[1]["id"]
    left = world.app.state.store.letters.issue("supervision", YEAR, {
        "matters": [matter], "rows": [{"id": matter, "receipt": "R", "sector": "社会治安", "post": "园区", "summary": "s",
                                        "deadline": "2026-12-31", "status": "办理中"}],
        "department": "police", "department_name": "区公安分局", "requirements": "请办理。", "issuer": "办公室",
        "sent_on": "2026-12-08", "answer_due": "2026-12-31", "voided": False, "answer": None, "history": []},
        lambda n: f"督{n}")
    login(world, "amy")
    assert _supervise(world, matter).headers["location"].startswith(f"/office/letters/{left['id']}")
    assert TriageBook(world.data).entry(matter)["supervision"] == "督1"
    assert len(LetterBook(world.data, writer=False).all()) == 1


def test_the_record_pages_action_form_supervises_too(world):  # noqa: F811
    login(world, "amy")
    matter = world.park[1]["id"]
    response = world.post(f"/office/records/{matter}/action", follow_redirects=False,
                          data={"csrf": csrf(world, "/office/records"), "action": "supervise", "note": "请加快办理。"})
    assert response.headers["location"] == f"/office/letters/supervision-{YEAR}-1?done=supervised"
    assert LetterBook(world.data, writer=False).get(f"supervision-{YEAR}-1")["requirements"] == "请加快办理。"


def test_undoing_a_supervision_voids_its_sheet_and_the_next_one_takes_a_new_number(world):  # noqa: F811
    login(world, "amy")
    matter = world.park[0]["id"]
    _supervise(world, matter)
    assert TriageBook(world.data).entry(matter)["history"][-1]["before"] == {"supervision": None}
    undone = world.post(f"/office/records/{matter}/action", follow_redirects=False,
                        data={"csrf": csrf(world, "/office/records"), "action": "undo"})
    assert undone.status_code == 303 and "error" not in undone.headers["location"]
    assert TriageBook(world.data).entry(matter)["supervision"] is None
    first = LetterBook(world.data, writer=False).get(f"supervision-{YEAR}-1")
    assert first["voided"] and first["number"] == f"金扫黑办督〔{YEAR}〕1号"  # the number stays taken
    _supervise(world, matter)
    assert TriageBook(world.data).entry(matter)["supervision"] == f"金扫黑办督〔{YEAR}〕2号"
    assert len(LetterBook(world.data, writer=False).all()) == 2


def test_the_department_sees_how_often_its_matter_was_urged(world):  # noqa: F811
    login(world, "amy")
    matter = world.park[0]["id"]
    for note in ("请尽快签收。", "明日例会通报。"):
        urged = world.post(f"/office/records/{matter}/action", follow_redirects=False,
                           data={"csrf": csrf(world, "/office/records"), "action": "urge", "note": note})
        assert "error" not in urged.headers["location"]
    login(world, "police")
    page = world.get(f"/office/records/{matter}").text
    assert 'data-urges="2"' in page and "已催办 2 次" in page and "明日例会通报。" in page
    assert "督办（生成编号督办单）" not in page  # 督办 is the office's
