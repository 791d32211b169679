"""What staff type into a letter, and an answer recorded."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sync_server.letters.content import LetterError, answer_fields, letter_fields, matter_row, void_fields
from tests.sync_server.letters.conftest import POLICE, row

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=timezone.utc)


def _make(**changes):
    fields = {"department": POLICE, "matters": [matter_row(row(1), "摊贩占道")], "title": "关于……的工作建议函",
              "body": "正文", "sent_on": date(2026, 12, 8), "due": date(2026, 12, 23), "issuer": "办公室",
              "by": "amy", "by_display": "王干事", "now": NOW, **changes}
    return letter_fields(**fields)


def test_a_matter_row_is_the_matter_as_it_stood_when_the_letter_was_made():
    assert matter_row(row(7, deadline="2027-01-02"), "概要") == {
        "id": "id-7", "receipt": "R007-ABCD", "sector": "教育卫生", "post": "河滨小学民情哨", "summary": "概要",
        "deadline": "2027-01-02", "status": "已交办"}


@pytest.mark.parametrize(("changes", "code"), [
    ({"department": None}, "choose_department"),
    ({"matters": []}, "no_matters"),
    ({"matters": [matter_row(row(1), "x")] * 201}, "too_many_matters"),
    ({"title": "  "}, "missing_title"),
    ({"title": "第一行\n第二行"}, "title_one_line"),
    ({"title": "长" * 101}, "too_long_title"),
    ({"body": ""}, "missing_body"),
    ({"body": "长" * 5001}, "too_long_body"),
    ({"title": "关于\u202e函"}, "bad_characters"),
    ({"body": "正文\x00"}, "bad_characters"),
    ({"body": "正文\ud800"}, "bad_characters"),
])
def test_a_letter_that_cannot_be_sent_is_refused_with_a_sentence(changes, code):
    with pytest.raises(LetterError) as refused:
        _make(**changes)
    assert refused.value.code == code and str(refused.value).endswith("。")


def test_a_letter_keeps_its_answer_date_and_body_line_breaks_as_lf():
    letter = _make(body="第一段。\r\n\r\n特此函告。")
    assert letter["body"] == "第一段。\n\n特此函告。" and letter["answer_due"] == "2026-12-23"
    assert letter["department"] == "police" and letter["matters"] == ["id-1"] and letter["answer"] is None


def test_an_answer_is_dated_between_sending_and_today_and_kept_in_the_history():
    letter = _make()
    changes = answer_fields(letter, "已部署整改。", "2026-12-09", date(2026, 12, 10), "dept", "公安分局联络员", NOW)
    assert changes["answer"]["text"] == "已部署整改。" and changes["answer"]["on"] == "2026-12-09"
    assert [step["action"] for step in changes["history"]] == ["answer"]
    for day in ("2026-12-07", "2026-12-11", "12/09/2026", ""):
        with pytest.raises(LetterError, match="答复日期"):
            answer_fields(letter, "已整改", day, date(2026, 12, 10), "dept", "x", NOW)
    with pytest.raises(LetterError) as empty:
        answer_fields(letter, " ", "2026-12-09", date(2026, 12, 10), "dept", "x", NOW)
    assert empty.value.code == "missing_answer"


def test_a_withdrawn_letter_takes_no_answer_and_says_why_it_was_withdrawn():
    letter = {**_make(), **void_fields(_make(), "主送单位有误", "amy", "王干事", NOW)}
    assert letter["voided"] is True and letter["history"][-1]["note"] == "主送单位有误"
    with pytest.raises(LetterError) as refused:
        answer_fields(letter, "已整改", "2026-12-09", date(2026, 12, 10), "dept", "x", NOW)
    assert refused.value.code == "voided"


def test_a_summary_stored_before_todays_rules_shows_its_invisible_characters_as_escapes():
    assert matter_row(row(1), "摊贩\x0b占道\u202e")["summary"] == "摊贩\\u000b占道\\u202e"
