"""Duplicate fingerprints are keyed per installation and split around the phone: nothing
stored lets a holder of the data folder (and the source) confirm a guessed text or
phone, a resend is still recognised, and data folders from before still work."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.intake.receipt import receipt_for
from sync_server.intake.submission import validate_submission
from sync_server.intake.writer import Intake
from sync_server.stations import StationBook
from sync_server.store.embedded import tinystore
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.fingerprint import PHONE_REMOVED, Fingerprints, legacy_digest, rekeyed
from tests.sync_server.conftest import health_here, make_item, post_batch

CITIZENS_FIELDS = {"id", "station_id", "created_at", "rating", "feeling", "suggestion", "phone", "consent"}
# Every stored field that is neither the citizen's own nor the receipt. A new one must be
# added here on purpose, and so pass through the comparisons below.
OTHER_FIELDS = {"fingerprint", "phone_fingerprint", "kiosk", "received_at", "flags"}
PHONE, OTHER_PHONE = "13812345678", "13987654321"
RECEIVED = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _store(data_dir: Path, registry: Path, items: list[dict]) -> dict[str, dict]:
    """Stored records by id, in a fresh installation (its own key), at a fixed time of receipt."""
    with Inbox(data_dir) as inbox:
        intake = Intake(inbox, StationBook(registry), inbox.data_dir, clock=lambda: RECEIVED)
        results = asyncio.run(intake.submit("d", items))
        assert {r.status for r in results} == {"accepted"}
        return {r["id"]: r for r in inbox.records()}


def _outside(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in CITIZENS_FIELDS | {"receipt"}}


def test_the_same_record_in_two_installations_shares_nothing_specific_to_the_citizen(tmp_path, registry_file):
    citizen = make_item(phone=PHONE, consent=True, feeling="同一句话")
    someone_else = make_item(feeling="别人的话")
    first = _store(tmp_path / "a", registry_file, [citizen, someone_else])
    second = _store(tmp_path / "b", registry_file, [citizen, someone_else])
    mine_a, mine_b = _outside(first[citizen["id"]]), _outside(second[citizen["id"]])
    assert set(mine_a) == OTHER_FIELDS
    same = {k for k in mine_a if mine_a[k] == mine_b[k]}
    # What is equal across installations is what every record received then has alike.
    assert same == {"kiosk", "received_at", "flags"}
    assert all(_outside(first[someone_else["id"]])[k] == mine_a[k] for k in same)
    assert mine_a["fingerprint"] != mine_b["fingerprint"]
    assert mine_a["phone_fingerprint"] != mine_b["phone_fingerprint"]


def _store_uploads(data_dir: Path, registry: Path, uploads: list[list[dict]]) -> list[dict]:
    """Store each upload as its own batch, a few milliseconds apart within one minute (as
    browsers syncing one after another are); the stored records in the store's order."""
    ticks = iter(range(len(uploads)))
    with Inbox(data_dir) as inbox:
        intake = Intake(inbox, StationBook(registry), inbox.data_dir,
                        clock=lambda: RECEIVED + timedelta(milliseconds=7 + 311 * next(ticks)))
        for upload in uploads:
            assert {r.status for r in asyncio.run(intake.submit("d", upload))} == {"accepted"}
        return list(inbox.records())


def test_two_reports_queued_offline_in_one_browser_and_sent_in_one_batch_share_nothing_others_lack(tmp_path, registry_file):
    # Thirty citizens each queue two reports offline and their browser sends both in one
    # batch when the signal returns; thirty others send one each; all within one minute.
    pairs = [[make_item(feeling=f"第{n}位的第一条"), make_item(feeling=f"第{n}位的第二条")] for n in range(30)]
    singles = [[make_item(feeling=f"单独一条{n}")] for n in range(30)]
    stored = _store_uploads(tmp_path / "data", registry_file, [u for two in zip(pairs, singles, strict=True) for u in two])
    by_id = {r["id"]: _outside(r) for r in stored}
    for first, second in pairs:
        mine = by_id[first["id"]], by_id[second["id"]]
        others = [r for i, r in by_id.items() if i not in (first["id"], second["id"])]
        shared = {k for k in mine[0] if mine[0][k] == mine[1][k]}
        # Whatever the two have alike (the arrival time among it), other citizens have too.
        assert all(any(o[k] == mine[0][k] for o in others) for k in shared), shared
    # Side by side in the store's order: for a random order of 90 records about 0.7 of
    # the 30 pairs are neighbours (9 or more: odds below one in ten million); batch by
    # batch, all 30 are.
    place = {r["id"]: n for n, r in enumerate(stored)}
    neighbours = sum(abs(place[a["id"]] - place[b["id"]]) == 1 for a, b in pairs)
    assert neighbours < 9, f"{neighbours} of 30 batches sit side by side"


def _unkeyed_digests(phone: str) -> set[bytes]:
    """What an unkeyed function of the phone would look like in a file, as text."""
    forms = {phone, "+86" + phone, f'"{phone}"', phone + "true", phone + "\x1f1", phone + "consent"}
    digests = set()
    for form in forms:
        for name in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
            digests.add(hashlib.new(name, form.encode()).hexdigest().encode())
    return digests


def test_with_one_phone_changed_nothing_stored_is_an_unkeyed_function_of_the_phone(tmp_path, registry_file):
    texts = {"feeling": "同一句话", "created_at": "2026-11-25T09:00:00+08:00", "consent": True}
    with_phone, with_other = make_item(phone=PHONE, **texts), make_item(phone=OTHER_PHONE, **texts)
    first = _store(tmp_path / "a", registry_file, [with_phone, with_other])
    second = _store(tmp_path / "b", registry_file, [with_phone, with_other])
    a, a_other = _outside(first[with_phone["id"]]), _outside(first[with_other["id"]])
    b = _outside(second[with_phone["id"]])
    follows_the_phone = {k for k in a if a[k] != a_other[k]}
    assert "phone_fingerprint" in follows_the_phone
    # The same phone in another installation gives other values: keyed, not a function of the phone.
    assert all(a[k] != b[k] for k in follows_the_phone)
    for folder in (tmp_path / "a", tmp_path / "b"):
        stored = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
        for phone in (PHONE, OTHER_PHONE):
            assert not any(d in stored for d in _unkeyed_digests(phone))


def test_phone_fingerprint_changes_with_the_phone_and_fingerprint_does_not():
    key = b"k" * 32
    item = validate_submission(make_item(phone=PHONE, consent=True)).__dict__
    changed = dict(item, phone=OTHER_PHONE)
    assert Fingerprints.of(key, item).content == Fingerprints.of(key, changed).content
    assert Fingerprints.of(key, item).phone != Fingerprints.of(key, changed).phone
    assert Fingerprints.of(key, dict(item, phone=None, consent=False)).phone is None
    assert Fingerprints.of(b"j" * 32, item) != Fingerprints.of(key, item)


def test_a_resend_after_retention_removed_the_phone_is_a_duplicate(settings):
    item = make_item(phone=PHONE, consent=True)
    with TestClient(create_app(settings)) as client:
        [first] = post_batch(client, [item]).json()["results"]
    _as_retention_leaves_it(settings.data_dir, item["id"])
    with TestClient(create_app(settings)) as reopened:
        [again] = post_batch(reopened, [item]).json()["results"]
        [changed] = post_batch(reopened, [dict(item, feeling="改过的话")]).json()["results"]
    assert again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    assert changed["status"] == "rejected" and changed["error"]["code"] == "conflict"


def test_a_different_phone_for_a_stored_record_with_its_phone_is_a_conflict(client):
    item = make_item(phone=PHONE, consent=True)
    post_batch(client, [item])
    [result] = post_batch(client, [dict(item, phone=OTHER_PHONE)]).json()["results"]
    assert result["status"] == "rejected" and result["error"]["code"] == "conflict"


def _as_retention_leaves_it(data_dir: Path, submission_id: str) -> None:
    # The agreed retention contract: no phone, no consent, no phone fingerprint, flagged.
    segment = data_dir / "inbox" / "segment-000001.json"
    records = tinystore.read_docs(segment, "submissions")
    for record in records:
        if record["id"] == submission_id:
            record.update(phone=None, consent=False, phone_fingerprint=None, flags=[*record["flags"], PHONE_REMOVED])
    tinystore.write_docs(segment, records, "submissions")


def _legacy_record(item: dict, **changes) -> dict:
    """A record as stored before keyed fingerprints: a plain SHA-256 and the browser's device id."""
    fields = validate_submission(item).__dict__
    record = {**fields, "fingerprint": legacy_digest(fields), "receipt": receipt_for(fields["id"]),
              "device_id": "d-4f1c", "received_at": "2026-11-20T02:00:00.000+00:00", "flags": []}
    return {**record, **changes}


@pytest.fixture
def old_data_dir(settings):
    """A data folder from before: one plain record, and one whose phone the old retention removed."""
    plain, redacted = make_item(), make_item(phone=PHONE, consent=True)
    records = [_legacy_record(plain), _legacy_record(redacted, phone=None, consent=False)]
    folder = Path(settings.data_dir) / "inbox"
    folder.mkdir(parents=True)
    tinystore.write_docs(folder / "segment-000001.json", records, "submissions")
    return plain, redacted


def test_an_old_data_folder_loads_and_resends_of_its_records_are_duplicates(settings, old_data_dir):
    plain, redacted = old_data_dir
    with TestClient(create_app(settings)) as client:
        assert health_here(client)["records"] == 2
        answers = post_batch(client, [plain, redacted, dict(plain, feeling="改过的话"), make_item()]).json()["results"]
    assert [a["status"] for a in answers] == ["duplicate", "duplicate", "rejected", "accepted"]
    assert answers[0]["receipt"] == receipt_for(plain["id"]) and answers[2]["error"]["code"] == "conflict"


def test_rekeying_an_old_record_drops_the_device_id_and_keeps_deduplication(settings, old_data_dir):
    plain, redacted = old_data_dir
    key = b"k" * 32
    old = {r["id"]: r for r in tinystore.read_docs(Path(settings.data_dir) / "inbox" / "segment-000001.json", "submissions")}
    new_plain, new_redacted = rekeyed(old[plain["id"]], key), rekeyed(old[redacted["id"]], key)
    assert "device_id" not in new_plain and "device_id" not in new_redacted
    assert new_plain["flags"] == [] and new_redacted["flags"] == [PHONE_REMOVED]
    assert new_redacted["phone_fingerprint"] is None
    for record, item in ((new_plain, plain), (new_redacted, redacted)):
        assert record["fingerprint"] != old[item["id"]]["fingerprint"]
        fields = validate_submission(item).__dict__
        assert Fingerprints.stored(record).same_submission(Fingerprints.of(key, fields), fields)
    assert rekeyed(new_plain, key) == new_plain


def test_an_inbox_with_a_record_from_the_old_shape_and_the_new_one_deduplicates_both(tmp_path, registry_file):
    legacy_item, item = make_item(), make_item()
    folder = tmp_path / "data" / "inbox"
    folder.mkdir(parents=True)
    tinystore.write_docs(folder / "segment-000001.json", [_legacy_record(legacy_item)], "submissions")
    with Inbox(tmp_path / "data") as inbox:
        intake = Intake(inbox, StationBook(registry_file), inbox.data_dir)
        first = asyncio.run(intake.submit("d", [item]))
        again = asyncio.run(intake.submit("d", [legacy_item, item]))
    assert [r.status for r in first] == ["accepted"] and [r.status for r in again] == ["duplicate", "duplicate"]

