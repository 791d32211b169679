"""What a department account reads, everywhere it reads: lists, search, records and
reports hold exactly the matters dispatched to it; older data is mapped at start or
flagged for staff, never dropped."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import apply, new_entry
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import PASSWORD, dispatch, login, seed

office = test_office.office  # the same small office world


def _weekly(client) -> str:
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    return client.get("/office/reports/weekly", params={"date": today, "format": "csv"}).content.decode("utf-8-sig")


def test_a_departments_weekly_pack_holds_its_dispatched_matters_and_no_others(office):
    # Each overdue (listed in the pack by receipt), each dispatched across sectors.
    park = seed(office, station_id="rulin-industrial-park", feeling="园区交办给教育局")  # public-order
    school = seed(office, station_id="hebin-primary", feeling="学校交办给公安")  # education-health
    dispatch(office, park["id"], "education", backdate="2020-01-01")
    dispatch(office, school["id"], "police", backdate="2020-01-01")
    login(office, "police")
    pack = _weekly(office)
    assert school["receipt"] in pack and park["receipt"] not in pack  # not its own sector's, undispatched to it
    office.cookies.clear()
    login(office, "edu")
    pack = _weekly(office)
    assert park["receipt"] in pack and school["receipt"] not in pack


def _old_dispatch(lead: str, received_at: str) -> dict:
    """A matter an older version dispatched to a free-text 牵头部门."""
    now = datetime.now(timezone.utc)
    entry = apply(new_entry(received_at), "accept", {}, "amy", now)
    entry = apply(entry, "assign", {"lead": lead, "deadline": "2030-01-01", "track": "immediate"}, "amy", now)
    return {k: v for k, v in entry.items() if k not in ("department", "lead_unmapped")}


def test_older_free_text_leads_are_mapped_at_start_or_flagged_for_staff(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"])
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        mapped, flagged = seed(client, feeling="旧的交办甲"), seed(client, feeling="旧的交办乙")
    book = TriageBook(settings.data_dir)
    book.put_many({mapped["id"]: _old_dispatch("区公安分局", mapped["created_at"]),
                   flagged["id"]: _old_dispatch("公安局", flagged["created_at"])})
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        login(client, "police")
        assert "旧的交办甲" in client.get("/office/records").text
        assert client.get(f"/office/records/{flagged['id']}").status_code == 404
        client.cookies.clear()
        login(client, "amy")
        listing = client.get("/office/records").text
        assert "有 1 条早先交办的记录" in listing and "旧的交办乙" in listing  # nothing dropped
    stored = TriageBook(settings.data_dir)
    assert stored.entry(mapped["id"])["department"] == "police"
    assert stored.entry(flagged["id"])["lead_unmapped"] is True and stored.entry(flagged["id"])["lead"] == "公安局"


def test_an_account_whose_department_is_unknown_sees_nothing_and_staff_are_told(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("customs", PASSWORD, "department", "海关", department="海关")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        seed(client, feeling="随便一条")
        login(client, "customs")
        page = client.get("/office/records").text
        assert "还没有对应到登记册中的部门" in page and "随便一条" not in page
        client.cookies.clear()
        login(client, "amy")
        assert "customs" in client.get("/office/records").text


def test_set_department_moves_an_account_and_refuses_an_unknown_id(settings, registry_file):
    Accounts(settings.data_dir).add("li", PASSWORD, "department", "李科长", department="海关")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sync_server.cli", "office", "set-department", "li", *args,
                               "--data-dir", str(settings.data_dir), "--registry", str(registry_file)],
                              capture_output=True, text=True)

    refused = run("--department", "coast-guard")
    assert refused.returncode == 2 and "no department 'coast-guard'" in refused.stderr
    assert run("--department", "区市场监督管理局").returncode == 0  # a name is taken for its id
    assert Accounts(settings.data_dir).get("li").department == "market"
