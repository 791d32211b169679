"""What the citizen says by receipt reaches the office (issue 22 §3, §4): a 不满意 verdict
flags the matter 群众不满意 on its page and in the weekly pack, staff are offered
重新办理 / 维持原处理 there, and the citizen's comment and answer are shown (escaped) with
the matter flagged 群众已补充. Reviewer's tests: each fails while the office pages show
none of it (only the history's note 不满意（附留言）)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

from tests.sync_server.intake.test_citizen_api import close, put, verdict
from tests.sync_server.office.test_pages import login, office, seed  # noqa: F401 - `office` is a fixture

MARKUP = "<script>alert(1)</script>"


def _judged(office, comment="还是有人摆摊"):  # noqa: F811
    record = seed(office)
    close(office, record["id"])
    assert verdict(office, record["receipt"], comment=comment).json()["status"] == "accepted"
    assert office.app.state.triage.entry(record["id"])["dissatisfied"] is True
    return record


def _offered(page: str) -> set[str]:
    return set(re.findall(r'name="action" value="([^"]+)"', page))


def test_a_dissatisfied_verdict_flags_the_matter_on_its_office_page(office):  # noqa: F811
    record = _judged(office)
    login(office, "amy")
    assert "群众不满意" in office.get(f"/office/records/{record['id']}").text


def test_staff_are_offered_reopen_and_maintain_on_a_matter_judged_dissatisfied(office):  # noqa: F811
    record = _judged(office)
    login(office, "amy")
    offered = _offered(office.get(f"/office/records/{record['id']}").text)
    assert {"reopen", "maintain"} <= offered, offered


def test_staff_are_offered_a_question_and_publication_on_a_closed_matter(office):  # noqa: F811
    record = seed(office)
    close(office, record["id"])
    login(office, "amy")
    offered = _offered(office.get(f"/office/records/{record['id']}").text)
    assert {"ask", "publish"} <= offered, offered


def test_the_citizens_comment_shows_escaped_on_the_office_record_page(office):  # noqa: F811
    record = _judged(office, comment=MARKUP + "还是有人摆摊")
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert MARKUP not in page
    assert "还是有人摆摊" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_answer_by_receipt_shows_and_flags_the_matter_citizen_added(office):  # noqa: F811
    record = seed(office)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    close(office, record["id"])
    put(office, record["id"], questions=[{"id": "q1", "asked_at": now, "text": "哪天？", "answer": None}])
    body = {"code": record["receipt"], "id": str(uuid.uuid4()), "question": "q1", "text": "<b>周三下午</b>"}
    assert office.post("/api/receipts/answer", json=body).json()["status"] == "accepted"
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert "群众已补充" in page
    assert "周三下午" in page and "<b>周三下午</b>" not in page
    assert "seen_answer" in _offered(page)


def test_the_weekly_pack_has_a_section_for_matters_judged_dissatisfied(office):  # noqa: F811
    _judged(office)
    login(office, "amy")
    assert "群众不满意" in office.get("/office/reports/weekly").text
