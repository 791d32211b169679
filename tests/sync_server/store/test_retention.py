"""Retention by age as well as status, with a clock we set: a phone goes N days after its
record closes and M days after receipt whatever the status, with its fingerprint, and
afterwards no file in the data folder holds the number."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.settings import Settings
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.store.retention import RetentionPolicy, run_retention
from sync_server.triage import new_entry
from tests.sync_server.conftest import make_item, quarantine_a_segment, store_items

NEVER_TRIAGED, CLOSED, OPEN = "13800000001", "13800000002", "13800000003"


def _bytes_of(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def stored(tmp_path, registry_file):
    data = tmp_path / "data"
    items = {phone: make_item(phone=phone, consent=True, feeling=f"电话{phone[-1]}") for phone in (NEVER_TRIAGED, CLOSED, OPEN)}
    store_items(data, registry_file, list(items.values()))
    with Inbox(data, writer=False) as inbox:
        received = datetime.fromisoformat(inbox.get(items[OPEN]["id"])["received_at"])
    book = TriageBook(data)
    closed_at = (received + timedelta(days=10)).isoformat()
    book.put(items[CLOSED]["id"], {**new_entry(""), "status": "closed", "closed_at": closed_at, "updated_at": closed_at})
    book.put(items[OPEN]["id"], {**new_entry(""), "status": "in_progress", "updated_at": closed_at})
    return data, items, received


def _phones(data) -> dict[str, str | None]:
    with Inbox(data, writer=False) as inbox:
        return {r["phone_hint"]: r["phone"] for r in ({**r, "phone_hint": r["feeling"][-1]} for r in inbox.records())}


def test_a_closed_record_loses_its_phone_n_days_after_closing_and_others_keep_theirs(stored):
    data, items, received = stored
    policy = RetentionPolicy(days_after_close=30, max_days=180)
    with Inbox(data) as inbox:
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=39)) == 0
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=41)) == 1
    assert _phones(data) == {"1": NEVER_TRIAGED, "2": None, "3": OPEN}
    record = next(r for r in Inbox(data, writer=False).records() if r["id"] == items[CLOSED]["id"])
    assert (record["consent"], record.get("phone_fingerprint"), "phone_removed" in record["flags"]) == (False, None, True)


def test_after_m_days_every_phone_goes_whatever_the_status_and_no_file_holds_a_number(stored):
    data, _, received = stored
    policy = RetentionPolicy(days_after_close=30, max_days=180)
    with Inbox(data) as inbox:
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=179)) == 1  # the closed one
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=181)) == 2
    assert _phones(data) == {"1": None, "2": None, "3": None}
    everything = _bytes_of(data)
    for phone in (NEVER_TRIAGED, CLOSED, OPEN):
        assert phone.encode() not in everything


def test_the_server_runs_retention_by_itself(stored, built_site, registry_file):
    data, _, received = stored
    settings = Settings(data_dir=data, site_dir=built_site, registry=registry_file)
    with TestClient(create_app(settings, clock=lambda: received + timedelta(days=200)), base_url="http://127.0.0.1:8000") as client:
        while client.app.state.retention_runs == 0:  # the first run starts with the server
            client.get("/api/health")
    assert _phones(data) == {"1": None, "2": None, "3": None}
    assert NEVER_TRIAGED.encode() not in _bytes_of(data)


@pytest.mark.parametrize("fields", [{"phone_days_after_close": -1}, {"phone_days_max": 0}, {"phone_days_max": 100000},
                                    {"phone_days_after_close": 1.5}])
def test_negative_or_absurd_periods_are_refused(fields):
    with pytest.raises(ValueError, match="phone retention"):
        Settings(**fields)


def test_the_command_reports_how_many_phones_it_removed_and_refuses_bad_days(stored):
    data, _, _ = stored
    ran = subprocess.run([sys.executable, "-m", "sync_server.cli", "inbox", "retention", "--days-after-close", "0",
                          "--data-dir", str(data)], capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.startswith("removed the phone number from 0 records"), ran.stderr
    bad = subprocess.run([sys.executable, "-m", "sync_server.cli", "inbox", "retention", "--max-days", "-1",
                          "--data-dir", str(data)], capture_output=True, text=True)
    assert bad.returncode == 2 and "days must be from 1" in bad.stderr


def _quarantined(data) -> dict:
    [path] = (data / "quarantine" / "inbox").glob("segment-000001.json.*")
    return json.loads(path.read_text("utf-8"))


def test_a_quarantined_segment_loses_its_phones_when_due_and_its_unreadable_bytes_at_the_longest_limit(tmp_path, registry_file):
    data = tmp_path / "data"
    items = [make_item(phone=f"1390000000{n}", consent=True, feeling=f"隔离{n}") for n in range(5)]
    victim = quarantine_a_segment(data, registry_file, items)
    received = datetime.now(timezone.utc)
    policy = RetentionPolicy(days_after_close=30, max_days=180)
    with Inbox(data) as inbox:
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=179)) == 0
        # Observed before: retention never looked in the quarantine; every phone stayed.
        assert run_retention(inbox, TriageBook(data), policy, received + timedelta(days=181)) == 4
    kept = _quarantined(data)
    records = list(kept["submissions"].values())
    assert len(records) == 4 and victim not in {r["id"] for r in records}  # every readable record kept
    assert all(r["phone"] is None and r["phone_fingerprint"] is None and "phone_removed" in r["flags"] for r in records)
    # The broken record's bytes could hold a phone nobody can find: they go too, and the
    # place and size of the damage stay for whoever mends the disk.
    assert set(kept["quarantined"]["unreadable"]) == {"dropped_at"} and kept["quarantined"]["ranges"]
    everything = _bytes_of(data)
    for item in items:
        assert item["phone"].encode() not in everything
    assert not list((data / "inbox-summaries").glob("*"))  # no digest of a phone outlives it either


def test_unreadable_bytes_stay_while_they_may_hold_a_phone_within_its_time(tmp_path, registry_file):
    data = tmp_path / "data"
    quarantine_a_segment(data, registry_file, [make_item(phone="13900000009", consent=True) for _ in range(3)])
    with Inbox(data) as inbox:
        run_retention(inbox, TriageBook(data), RetentionPolicy(), datetime.now(timezone.utc) + timedelta(days=179))
    raw = next((data / "quarantine" / "inbox").glob("segment-*")).read_bytes()
    assert b"13900000009" in raw  # untouched: the damaged file, byte for byte


def _aged_record(n: int, received: datetime) -> dict:
    sid = f"00000000-0000-4000-8000-{n:012d}"
    return {"id": sid, "fingerprint": f"f{n}", "receipt": f"R{n:07d}", "station_id": "hebin-primary", "feeling": f"旧{n}",
            "phone": f"1391111{n:04d}", "consent": True, "phone_fingerprint": f"p{n}", "flags": [],
            "received_at": received.isoformat(timespec="minutes").replace("+00:00", ":00+00:00")}


def _segment(data, number: int, records: list[dict]) -> bytes:
    from sync_server.store.embedded.tinystore import write_docs
    path = data / "inbox" / f"segment-{number:06d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_docs(path, records, "submissions")
    return path.read_bytes()


def test_unreadable_bytes_go_by_the_earliest_arrival_they_may_hold_not_the_files_last_write(tmp_path):
    # A segment open for months: its first phones arrived long before its last write.
    data, now = tmp_path / "data", datetime.now(timezone.utc)
    records = [_aged_record(n, now - timedelta(days=200 - n)) for n in range(3)]
    raw = _segment(data, 1, records)
    phone = records[1]["phone"].encode()
    cut = raw.index(phone) - 30
    (data / "inbox" / "segment-000001.json").write_bytes(raw[:cut] + b"\xff\xfe" + raw[cut + 2:])
    with Inbox(data) as inbox:
        assert inbox.damaged  # set aside: the file's last write is now
        run_retention(inbox, TriageBook(data), RetentionPolicy(max_days=180), now)
    # Observed before: the unreadable bytes (and the phone in them) stayed 180 days more.
    assert set(_quarantined(data)["quarantined"]["unreadable"]) == {"dropped_at"}
    assert phone not in _bytes_of(data)


def test_a_record_whose_arrival_time_the_damage_hid_goes_by_the_segment_before(tmp_path):
    # Segment 2's first record lost its time to the damage; it arrived after segment 1's
    # last record, which is therefore the earliest it may hold.
    data, now = tmp_path / "data", datetime.now(timezone.utc)
    _segment(data, 1, [_aged_record(n, now - timedelta(days=200)) for n in range(2)])
    hidden = _aged_record(2, now - timedelta(days=190))
    raw = _segment(data, 2, [hidden, *[_aged_record(n, now - timedelta(days=10)) for n in (3, 4)]])
    start = raw.index(hidden["received_at"].encode())
    (data / "inbox" / "segment-000002.json").write_bytes(raw[:start] + b"\xff" * 10 + raw[start + 10:])
    with Inbox(data) as inbox:
        assert inbox.damaged
        run_retention(inbox, TriageBook(data), RetentionPolicy(max_days=180), now)
    # Observed before: dropped only 180 days after the file's last write (now).
    assert hidden["phone"].encode() not in _bytes_of(data)
    [path] = (data / "quarantine" / "inbox").glob("segment-000002.json.*")
    assert set(json.loads(path.read_text("utf-8"))["quarantined"]["unreadable"]) == {"dropped_at"}
