"""The 明细 rows: one per record, in the office's words, a phone only where consented."""

from __future__ import annotations

from sync_server.office.record_export import COLUMNS, PHONE_COLUMN, export_rows, export_sheet
from sync_server.office.records import Row
from sync_server.triage import new_entry


def _row(**record):
    base = {"id": "a", "receipt": "AB12-CD34", "received_at": "2026-12-06T17:30:00+00:00", "station_id": "hebin-primary",
            "feeling": "路口积水", "suggestion": "", "phone": None, "consent": False}
    entry = {**new_entry(base["received_at"]), "status": "closed", "outcome": "merged", "track": "long_term"}
    return Row(record={**base, **record}, triage=entry, station_name="河滨小学", sector_id="education-health",
               sector_name="教育卫生", overdue=False)


def test_a_row_reads_in_beijing_time_with_the_office_labels():
    [cells] = export_rows([_row()], {"hebin-primary": "西城街道"}, with_phone=False)
    fields = dict(zip(COLUMNS, cells, strict=True))
    assert fields["收到时间"] == "2026-12-07 01:30" and fields["镇街"] == "西城街道" and fields["状态"] == "已合并"
    assert fields["办理方式"] == "长效常治" and fields["是否超期"] == "否" and fields["办理结果"] == ""


def test_a_phone_stored_without_consent_is_never_written():
    rows = [_row(phone="13912345678", consent=False), _row(phone="13900000000", consent=True)]
    assert [cells[-1] for cells in export_rows(rows, {}, with_phone=True)] == ["", "13900000000"]


def test_the_phone_column_exists_only_when_asked_for():
    assert PHONE_COLUMN not in export_sheet([_row()], {}, False, "t").header
    assert export_sheet([_row()], {}, True, "t").header[-1] == PHONE_COLUMN
