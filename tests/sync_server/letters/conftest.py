"""Letters built from small inline matters."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from sync_server.letters.content import letter_fields, matter_row
from sync_server.letters.numbering import labeller
from sync_server.office.records import Row
from sync_server.triage import new_entry


def row(n: int, **triage) -> Row:
    entry = {**new_entry("2026-12-01T00:00:00+00:00"), "status": "assigned", "deadline": "2026-12-20", **triage}
    return Row(record={"id": f"id-{n}", "receipt": f"R{n:03d}-ABCD", "feeling": "", "suggestion": ""}, triage=entry,
               station_name="河滨小学民情哨", sector_id="education-health", sector_name="教育卫生", overdue=False)


POLICE = SimpleNamespace(id="police", name="区公安分局")


@pytest.fixture
def letter() -> dict:
    matters = [matter_row(row(n), f"第{n}件事：校门口摊贩占道") for n in range(1, 4)]
    fields = letter_fields(department=POLICE, matters=matters, title="关于商请区公安分局办理群众反映问题的工作建议函",
                           body="第一段。\n\n特此函告。", sent_on=date(2026, 12, 8), due=date(2026, 12, 23),
                           issuer="金坛区扫黑除恶专项斗争领导小组办公室", by="amy", by_display="王干事",
                           now=datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc))
    return {**fields, "id": "letter-2026-3", "kind": "letter", "year": 2026, "n": 3,
            "number": labeller("金扫黑办函〔{year}〕{n}号", 2026)(3)}
