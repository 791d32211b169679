"""督办: a numbered sheet for a dispatched matter, named on the matter with a history step."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sync_server.letters.content import matter_row
from sync_server.letters.supervision import (
    DEFAULT_REQUIREMENTS,
    SupervisionError,
    check_supervisable,
    live_sheet,
    pending_sheet,
    sheet_fields,
    stale_sheets,
)
from tests.sync_server.letters.conftest import POLICE, row

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)


def _sheet(**changes):
    fields = {"matter": matter_row(row(1), "摊贩占道"), "department": POLICE, "requirements": "", "sent_on": date(2026, 12, 8),
              "due": date(2026, 12, 23), "issuer": "办公室", "by": "amy", "by_display": "王干事", "now": NOW, **changes}
    return {**sheet_fields(**fields), "id": "supervision-2026-4", "kind": "supervision", "number": "督〔2026〕4号"}


def test_a_sheet_names_the_matter_its_department_and_is_due_by_the_matters_deadline():
    sheet = _sheet()
    assert sheet["matters"] == ["id-1"] and sheet["department"] == "police" and sheet["answer_due"] == "2026-12-20"
    assert sheet["requirements"] == DEFAULT_REQUIREMENTS
    assert _sheet(matter=matter_row(row(2, deadline=None), "x"))["answer_due"] == "2026-12-23"


def test_a_matter_without_a_department_or_with_overlong_requirements_takes_no_sheet():
    for changes, code in (({"department": None}, "no_department"), ({"requirements": "要" * 2001}, "too_long_requirements"),
                          ({"requirements": "请\u2066办理"}, "bad_characters")):
        with pytest.raises(SupervisionError) as refused:
            _sheet(**changes)
        assert refused.value.code == code


@pytest.mark.parametrize("status", ["received", "accepted", "closed", "returned"])
def test_only_a_dispatched_matter_can_be_supervised(status):
    with pytest.raises(SupervisionError) as refused:
        check_supervisable(row(1, status=status).triage)
    assert refused.value.code == "not_supervisable"


def test_a_matter_is_supervised_once_while_its_sheet_binds():
    entry = row(1, supervision="督〔2026〕4号", department="police").triage
    sheet = _sheet()
    with pytest.raises(SupervisionError) as refused:
        check_supervisable(entry, live_sheet([sheet], entry))
    assert refused.value.code == "already_supervised"
    # A voided sheet, or one addressed to a department that no longer holds the matter, binds no more.
    assert live_sheet([{**sheet, "voided": True}], entry) is None
    assert live_sheet([sheet], {**entry, "department": "education"}) is None
    check_supervisable(entry, None)


def test_a_sheet_a_kill_left_unnamed_is_taken_again_not_a_new_number():
    sheet = _sheet()
    entry = row(1, department="police").triage
    other = {**_sheet(), "id": "supervision-2026-5", "matters": ["id-9"]}
    letter = {**_sheet(), "kind": "letter", "id": "letter-2026-1"}
    assert pending_sheet([letter, other, sheet], entry, "id-1")["id"] == "supervision-2026-4"
    assert pending_sheet([{**sheet, "voided": True}], entry, "id-1") is None


def test_a_sheet_left_unnamed_goes_only_to_the_department_holding_the_matter_now():
    sheet = _sheet()
    moved = row(1, department="education").triage
    assert pending_sheet([sheet], moved, "id-1") is None
    assert [v["id"] for v in stale_sheets([sheet], moved, "id-1")] == ["supervision-2026-4"]
    assert stale_sheets([sheet], row(1, department="police").triage, "id-1") == []
