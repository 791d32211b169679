"""The intake with sealing on: browser-sealed records checked and stored as sent, plain
ones sealed before the write, fingerprints of the sealed bytes only."""

from __future__ import annotations

import asyncio
import json

import pytest

from sync_server.intake.writer import Intake
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from sync_server.stations import StationBook
from sync_server.store.embedded.inbox import Inbox
from tests.sync_server.conftest import make_item

FAST = {"n": 2**10, "r": 8, "p": 1}
CANARY = "金丝雀-感受-7Q3"
CANARY_PHONE = "13987654321"


@pytest.fixture
def data(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def keyring(data):
    # Only education-health (hebin-primary's sector) and public-order get keys: the
    # other sectors stay plain, as after an `init` that predates them.
    data.mkdir()
    ring = Keyring(data, scrypt=FAST)
    ring.init(["education-health", "public-order"])
    return ring


def _submit(data, registry_file, *items) -> list:
    async def run():
        with Inbox(data) as inbox:
            return await Intake(inbox, StationBook(registry_file), inbox.data_dir).submit("d", list(items))

    return [r.as_json() for r in asyncio.run(run())]


def _stored(data) -> list[dict]:
    with Inbox(data, writer=False) as inbox:
        return list(inbox.records())


def _browser_sealed(keyring, **fields) -> dict:
    item = make_item(**fields)
    key = keyring.public_keys()["education-health"]
    return envelope.seal_record(item, key)


def _disk_text(data) -> str:
    return "\n".join(p.read_text("utf-8", errors="replace") for p in data.rglob("*") if p.is_file())


def test_a_plain_record_to_a_sector_with_a_key_is_sealed_before_it_is_written(data, registry_file, keyring):
    [result] = _submit(data, registry_file, make_item(feeling=CANARY, phone=CANARY_PHONE, consent=True))
    assert result["status"] == "accepted"
    [record] = _stored(data)
    assert "sealed" in record and record["feeling"] == "" and record["phone"] is None
    assert CANARY not in _disk_text(data) and CANARY_PHONE not in _disk_text(data)
    private = _private(keyring, record["sealed"]["kid"])
    assert envelope.open_text(record, record["sealed"], private).feeling == CANARY
    assert envelope.open_phone(record, record["sealed"], private) == CANARY_PHONE


def _private(keyring, kid):
    # The test holds the recovery key the way `keys init` printed it.
    return keyring._test_recovery.private(kid)[1]


@pytest.fixture(autouse=True)
def _remember_recovery(monkeypatch):
    original = Keyring.init

    def init(self, sectors, now=None):
        code = original(self, sectors, now)
        Keyring._test_recovery = self.unlock_recovery(code)
        return code

    monkeypatch.setattr(Keyring, "init", init)


def test_a_browser_sealed_record_is_stored_as_it_came(data, registry_file, keyring):
    item = _browser_sealed(keyring, feeling=CANARY)
    [result] = _submit(data, registry_file, item)
    assert result["status"] == "accepted"
    [record] = _stored(data)
    assert record["sealed"] == item["sealed"]
    assert CANARY not in _disk_text(data)


def test_fingerprints_of_a_sealed_record_are_not_digests_of_its_phone(data, registry_file, keyring):
    from sync_server.store.fingerprint import Fingerprints
    from sync_server.store.installation import installation_key

    item = make_item(feeling=CANARY, phone=CANARY_PHONE, consent=True)
    _submit(data, registry_file, item)
    [record] = _stored(data)
    plain = Fingerprints.of(installation_key(data), {**item, "id": item["id"].lower()})
    assert record["phone_fingerprint"] is not None
    assert record["phone_fingerprint"] != plain.phone
    assert record["fingerprint"] != plain.content


def test_a_browser_resend_is_a_duplicate_and_changed_sealed_bytes_a_conflict(data, registry_file, keyring):
    item = _browser_sealed(keyring, feeling=CANARY)
    first = _submit(data, registry_file, item)[0]
    again = _submit(data, registry_file, item)[0]
    assert again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    changed = envelope.seal_record({**make_item(feeling="别的话"), **{k: item[k] for k in ("id", "station_id", "created_at", "rating")}},
                                  keyring.public_keys()["education-health"])
    assert _submit(data, registry_file, changed)[0]["error"]["code"] == "conflict"


def test_a_plain_resend_of_a_record_sealed_on_arrival_is_a_duplicate(data, registry_file, keyring):
    item = make_item(feeling=CANARY)
    first = _submit(data, registry_file, item)[0]
    again = _submit(data, registry_file, item)[0]
    assert again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    moved = _submit(data, registry_file, {**item, "rating": "dissatisfied"})[0]
    assert moved["error"]["code"] == "conflict"
    assert len(_stored(data)) == 1


def test_an_unknown_key_id_is_refused_with_a_sentence(data, registry_file, keyring):
    item = _browser_sealed(keyring)
    item["sealed"]["kid"] = "0123456789abcdef"
    [result] = _submit(data, registry_file, item)
    assert result["status"] == "rejected" and result["error"]["code"] == "unknown_key"
    assert "钥匙" in result["error"]["message"]
    assert _stored(data) == []


def test_a_record_sealed_to_another_sectors_key_is_refused(data, registry_file, keyring):
    item = envelope.seal_record(make_item(), keyring.public_keys()["public-order"])
    [result] = _submit(data, registry_file, item)
    assert result["error"]["code"] == "wrong_sector"


@pytest.mark.parametrize("hostile", [
    {"sealed": "x"},
    {"sealed": {"v": 1}},
    {"feeling": "明文"},
    {"id": "not-a-uuid"},
])
def test_a_malformed_sealed_record_is_rejected_with_a_sentence_never_a_crash(data, registry_file, keyring, hostile):
    item = {**_browser_sealed(keyring), **hostile}
    [result] = _submit(data, registry_file, item)
    assert result["status"] == "rejected"
    assert result["error"]["message"] and result["error"]["code"] != "internal"


def test_a_sealed_phone_without_consent_is_refused(data, registry_file, keyring):
    item = _browser_sealed(keyring, phone=CANARY_PHONE, consent=True)
    [result] = _submit(data, registry_file, {**item, "consent": False})
    assert result["status"] == "rejected"


def test_a_sector_without_a_key_stores_plain_as_before(data, registry_file, keyring):
    # jintan-east-bus is in transport, which has no key.
    _submit(data, registry_file, make_item(station_id="jintan-east-bus", feeling=CANARY))
    [record] = _stored(data)
    assert "sealed" not in record and record["feeling"] == CANARY


def test_without_keys_the_intake_stores_exactly_as_before(data, registry_file):
    item = make_item(feeling=CANARY)
    _submit(data, registry_file, item)
    [record] = _stored(data)
    assert record["feeling"] == CANARY and "sealed" not in record
    assert not (data / "keys").exists()


def test_a_key_rotated_while_the_server_runs_is_used_for_the_next_record(data, registry_file, keyring):
    async def run():
        with Inbox(data) as inbox:
            intake = Intake(inbox, StationBook(registry_file), inbox.data_dir)
            before, after = make_item(), make_item()
            await intake.submit("d", [before])
            new = keyring.rotate(["education-health"])["education-health"]
            await intake.submit("d", [after])
            return new, before["id"], after["id"]

    new_kid, before, after = asyncio.run(run())
    kids = {r["id"]: r["sealed"]["kid"] for r in _stored(data)}  # one minute: stored in no order
    assert kids[after] == new_kid and kids[before] != new_kid


def test_retention_drops_the_sealed_phone_and_the_text_still_opens(data, registry_file, keyring):
    item = make_item(feeling=CANARY, phone=CANARY_PHONE, consent=True)
    _submit(data, registry_file, item)
    with Inbox(data) as inbox:
        assert inbox.redact_phones({item["id"]}) == 1
    [record] = _stored(data)
    assert record["sealed"]["phone"] is None and record["phone_fingerprint"] is None
    assert record["consent"] is False and "phone_removed" in record["flags"]
    private = _private(keyring, record["sealed"]["kid"])
    # consent is in the bound clear fields only through the record; the text binds id,
    # station, created_at and rating, so it still opens.
    assert envelope.open_text(record, record["sealed"], private).feeling == CANARY
    assert CANARY_PHONE not in json.dumps(record)
