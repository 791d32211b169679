"""Department keys in the keyring: one key pair per department, under the sector keys'
rules (made by init and rotate, held by the recovery key and staff, given to the
accounts of that department only), never published for the forms."""

from __future__ import annotations

import json

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring, KeysError, access_of

FAST = {"n": 2**10, "r": 8, "p": 1}
SECTORS = ["public-order", "transport"]
DEPARTMENTS = ["police", "market", "hrss"]


@pytest.fixture
def ring(tmp_path):
    keyring = Keyring(tmp_path, scrypt=FAST)
    code = keyring.init(SECTORS, departments=DEPARTMENTS)
    return keyring, code


def _opens(private, key: envelope.PublicKey) -> bool:
    message = envelope.seal_bytes(key, b"probe", b"words")
    try:
        return envelope.open_bytes(private, b"probe", message) == b"words"
    except Exception:
        return False


def test_init_makes_a_key_per_department_that_the_recovery_key_opens(ring):
    keyring, code = ring
    public = keyring.department_keys()
    assert set(public) == set(DEPARTMENTS)
    recovery = keyring.unlock_recovery(code)
    assert recovery.department_ids() == set(DEPARTMENTS)
    for department, key in public.items():
        held = recovery.department_private(key.kid)
        assert held is not None and held[0] == department and _opens(held[1], key)


def test_department_keys_are_never_published_nor_accepted_as_a_sector_key(ring):
    keyring, _ = ring
    kids = {key.kid for key in keyring.department_keys().values()}
    published = json.loads(keyring.public_path.read_text())
    assert set(published["sectors"]) == set(SECTORS)
    assert not kids & {entry["kid"] for entry in published["sectors"].values()}
    assert not kids & set(keyring.sector_of())
    assert set(keyring.department_of()) == kids


def test_a_department_account_holds_its_department_key_and_no_sector_key(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "gaj", "dept-password-1", access_of("department", ["public-order"], "police"))
    unlocked = keyring.unlock("gaj", "dept-password-1")
    assert unlocked.department_ids() == {"police"}
    assert unlocked.sectors() == set() and not unlocked.keys
    other = keyring.department_keys()["market"]
    assert unlocked.department_private(other.kid) is None


def test_staff_hold_every_department_key_and_can_give_one(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "amy", "staff-password-1", access_of("staff", []))
    staff = keyring.unlock("amy", "staff-password-1", keep_own=True)
    assert staff.department_ids() == set(DEPARTMENTS)
    keyring.enroll(staff, "scj", "dept-password-2", access_of("department", [], "market"))
    assert keyring.unlock("scj", "dept-password-2").department_ids() == {"market"}


def test_a_department_cannot_give_another_departments_key(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "gaj", "dept-password-1", access_of("department", [], "police"))
    with pytest.raises(KeysError, match="does not hold"):
        keyring.enroll(keyring.unlock("gaj", "dept-password-1", keep_own=True), "x-user", "dept-password-3",
                       access_of("department", [], "market"))


def test_rotation_gives_new_department_keys_to_their_holders_and_keeps_the_old(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "gaj", "dept-password-1", access_of("department", [], "police"))
    old = keyring.department_keys()["police"]
    made = keyring.rotate(SECTORS, departments=DEPARTMENTS + ["urban"])  # urban: new in the registry
    new = keyring.department_keys()["police"]
    assert made["dept:police"] == new.kid != old.kid and "urban" in keyring.department_keys()
    unlocked = keyring.unlock("gaj", "dept-password-1")  # no password was needed to rotate
    assert {k for k in unlocked.departments} == {old.kid, new.kid}
    assert unlocked.department_ids() == {"police"}
    recovery = keyring.unlock_recovery(code)
    assert recovery.department_private(keyring.department_keys()["urban"].kid) is not None
    assert recovery.department_private(old.kid) is not None


def test_a_keyring_made_before_department_keys_gains_them_at_rotation(tmp_path):
    keyring = Keyring(tmp_path, scrypt=FAST)
    code = keyring.init(SECTORS)
    assert keyring.department_keys() == {} and keyring.unlock_recovery(code).department_ids() == set()
    keyring.rotate([], departments=["police"])
    assert keyring.unlock_recovery(code).department_ids() == {"police"}
    assert set(keyring.public_keys()) == set(SECTORS)


def test_a_department_grant_moved_to_another_department_holder_does_not_open(ring):
    keyring, code = ring
    recovery = keyring.unlock_recovery(code)
    keyring.enroll(recovery, "gaj", "password-aaaa", access_of("department", [], "police"))
    keyring.enroll(recovery, "scj", "password-bbbb", access_of("department", [], "market"))
    data = json.loads(keyring.path.read_text())
    data["holders"]["scj"]["grants"].update(data["holders"]["gaj"]["grants"])
    keyring.path.write_text(json.dumps(data))
    with pytest.raises(KeysError, match="damaged"):
        keyring.unlock("scj", "password-bbbb")


def test_access_of_a_department_account_is_its_department_only():
    assert access_of("department", ["public-order"], "police") == ["dept:police"]
    assert access_of("department", ["public-order"]) == ["public-order"]  # not yet mapped to a department
    assert access_of("staff", [], "police") == "*" and access_of("viewer", [], "police") is None
