"""The keyring: sector keys, holders, the recovery key, rotation and password changes."""

from __future__ import annotations

import json
import stat

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.keyring import SCRYPT, Keyring, KeysError, access_of, format_recovery, parse_recovery

FAST = {"n": 2**10, "r": 8, "p": 1}  # the stated cost is tested once below; tests need speed
SECTORS = ["public-order", "transport", "rural"]
CLEAR = {"id": "4b0d8a8e-2b1f-4c55-9a55-5f0a3e1c2d7a", "station_id": "jintan-east-bus",
         "created_at": "2026-11-28T01:02:03.000Z", "rating": None}


@pytest.fixture
def ring(tmp_path):
    keyring = Keyring(tmp_path, scrypt=FAST)
    code = keyring.init(SECTORS)
    return keyring, code


def _seal_to(keyring: Keyring, sector: str, words: str = "候车厅有人拉客") -> dict:
    return envelope.seal(CLEAR, words, "", "13912345678", keyring.public_keys()[sector])


def test_init_makes_one_key_per_sector_and_a_recovery_key_that_opens_them_all(ring):
    keyring, code = ring
    assert set(keyring.public_keys()) == set(SECTORS)
    unlocked = keyring.unlock_recovery(code)
    assert unlocked.sectors() == set(SECTORS)
    sealed = _seal_to(keyring, "transport")
    _, private = unlocked.private(sealed["kid"])
    assert envelope.open_text(CLEAR, sealed, private).feeling == "候车厅有人拉客"


def test_init_twice_is_refused(ring):
    keyring, _ = ring
    with pytest.raises(KeysError, match="already exist"):
        keyring.init(SECTORS)


def test_key_files_are_private_and_hold_no_private_key_in_clear(ring, tmp_path):
    keyring, code = ring
    assert stat.S_IMODE(keyring.dir.stat().st_mode) == 0o700
    for path in (keyring.path, keyring.public_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    unlocked = keyring.unlock_recovery(code)
    text = keyring.path.read_text() + keyring.public_path.read_text()
    for _, private in unlocked.keys.values():
        raw = envelope.private_to_bytes(private)
        assert envelope._b64(raw) not in text and raw.hex() not in text
    assert code.replace("-", "") not in text


def test_public_file_lists_only_each_sectors_current_public_key(ring):
    keyring, _ = ring
    public = json.loads(keyring.public_path.read_text())
    assert set(public["sectors"]) == set(SECTORS)
    assert all(set(entry) == {"kid", "key"} for entry in public["sectors"].values())


def test_a_wrong_recovery_key_is_refused(ring):
    keyring, code = ring
    other = format_recovery(bytes(32))
    with pytest.raises(KeysError, match="recovery key is wrong"):
        keyring.unlock_recovery(other)


def test_recovery_key_survives_hand_copying(ring):
    keyring, code = ring
    sloppy = code.lower().replace("-", " ").replace("o", "0")
    assert keyring.unlock_recovery(sloppy).sectors() == set(SECTORS)


@pytest.mark.parametrize("text", ["", "ABCD", "!!!!-!!!!", "A" * 60])
def test_something_else_is_not_a_recovery_key(text):
    with pytest.raises(KeysError, match="not a recovery key"):
        parse_recovery(text)


def test_staff_enrolled_through_the_recovery_key_reads_every_sector(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "staff-password-1", access_of("staff", []))
    assert keyring.unlock("wang", "staff-password-1").sectors() == set(SECTORS)


def test_a_department_holds_only_its_own_sectors_keys(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "jiaotong", "dept-password-1", access_of("department", ["transport"]))
    unlocked = keyring.unlock("jiaotong", "dept-password-1")
    assert unlocked.sectors() == {"transport"}
    assert unlocked.private(_seal_to(keyring, "public-order")["kid"]) is None


def test_an_unlocked_staff_account_can_enroll_a_new_user(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "staff-password-1", "*")
    keyring.enroll(keyring.unlock("wang", "staff-password-1"), "li", "dept-password-1", ["rural"])
    assert keyring.unlock("li", "dept-password-1").sectors() == {"rural"}


def test_a_department_cannot_enroll_someone_into_sectors_it_does_not_hold(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "jiaotong", "dept-password-1", ["transport"])
    with pytest.raises(KeysError, match="does not hold"):
        keyring.enroll(keyring.unlock("jiaotong", "dept-password-1"), "zhao", "staff-password-2", "*")
    assert "zhao" not in keyring.holders()


def test_a_wrong_password_unlocks_nothing(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "staff-password-1", "*")
    with pytest.raises(KeysError, match="password is wrong"):
        keyring.unlock("wang", "staff-password-2")
    with pytest.raises(KeysError):
        keyring.unlock("nobody", "staff-password-1")


def test_a_password_change_rewraps_and_the_old_password_stops_working(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "old-password-1", "*")
    keyring.rewrap("wang", "old-password-1", "new-password-1")
    assert keyring.unlock("wang", "new-password-1").sectors() == set(SECTORS)
    with pytest.raises(KeysError):
        keyring.unlock("wang", "old-password-1")


def test_a_password_change_needs_the_current_password(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "old-password-1", "*")
    with pytest.raises(KeysError, match="current password"):
        keyring.rewrap("wang", "guessed-password", "new-password-1")


def test_rotation_seals_new_records_to_new_keys_and_old_records_still_open(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "jiaotong", "dept-password-1", ["transport"])
    old = _seal_to(keyring, "transport", "旧记录")
    made = keyring.rotate(SECTORS)
    new = _seal_to(keyring, "transport", "新记录")
    assert new["kid"] == made["transport"] != old["kid"]
    unlocked = keyring.unlock("jiaotong", "dept-password-1")  # no password was needed to rotate
    assert unlocked.sectors() == {"transport"}
    for sealed, words in ((old, "旧记录"), (new, "新记录")):
        assert envelope.open_text(CLEAR, sealed, unlocked.private(sealed["kid"])[1]).feeling == words
    assert len(keyring.unlock_recovery(code).keys) == 2 * len(SECTORS)


def test_rotation_adds_keys_for_a_sector_new_in_the_registry(ring):
    keyring, code = ring
    keyring.rotate(["finance"])
    assert "finance" in keyring.public_keys()
    assert "finance" in keyring.unlock_recovery(code).sectors()


def test_a_user_enrolled_after_rotation_gets_old_keys_too(ring):
    keyring, code = ring
    old = _seal_to(keyring, "rural")
    keyring.rotate(SECTORS)
    keyring.enroll(keyring.unlock_recovery(code), "li", "dept-password-1", ["rural"])
    assert keyring.unlock("li", "dept-password-1").private(old["kid"]) is not None


def test_a_viewer_and_a_removed_user_hold_no_keys(ring):
    keyring, code = ring
    recovery = keyring.unlock_recovery(code)
    keyring.enroll(recovery, "kan", "viewer-password-1", access_of("viewer", []))
    keyring.enroll(recovery, "wang", "staff-password-1", "*")
    keyring.remove("wang")
    assert set(keyring.holders()) == {"@recovery"}


def test_a_grant_moved_to_another_holder_does_not_open(ring):
    keyring, code = ring
    recovery = keyring.unlock_recovery(code)
    keyring.enroll(recovery, "a-user", "password-aaaa", ["transport"])
    keyring.enroll(recovery, "b-user", "password-bbbb", ["rural"])
    data = json.loads(keyring.path.read_text())
    data["holders"]["b-user"]["grants"].update(data["holders"]["a-user"]["grants"])
    keyring.path.write_text(json.dumps(data))
    with pytest.raises(KeysError, match="damaged"):
        keyring.unlock("b-user", "password-bbbb")


def test_password_locks_use_the_stated_scrypt_cost(tmp_path):
    keyring = Keyring(tmp_path)
    code = keyring.init(["transport"])
    keyring.enroll(keyring.unlock_recovery(code), "wang", "staff-password-1", "*")
    kdf = json.loads(keyring.path.read_text())["holders"]["wang"]["lock"]["kdf"]
    assert {k: kdf[k] for k in ("n", "r", "p")} == SCRYPT == {"n": 2**17, "r": 8, "p": 1}
    assert keyring.unlock("wang", "staff-password-1").sectors() == {"transport"}


def test_without_keys_there_are_no_public_keys(tmp_path):
    keyring = Keyring(tmp_path)
    assert not keyring.exists() and keyring.public_keys() == {} and keyring.sector_of() == {}
    with pytest.raises(KeysError, match="keys init"):
        keyring.unlock("wang", "staff-password-1")


def test_a_giver_unlocked_before_a_rotation_still_gives_the_new_keys(ring):
    # A command asks for the unlocking secret, then waits for the lock while a rotation
    # saves new keys: what it gives must be the keyring as it stands, new keys included.
    keyring, code = ring
    giver = keyring.unlock_recovery(code, keep_own=True)
    made = keyring.rotate(["transport"])
    keyring.enroll(giver, "li", "li-password-1", ["transport"])
    assert keyring.unlock("li", "li-password-1").private(made["transport"]) is not None


def test_an_office_session_keeps_only_sector_keys_not_the_holders_own(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "wang-password-1", "*")
    assert keyring.unlock("wang", "wang-password-1").own is None


@pytest.mark.parametrize("replaced_by", ["recovery", "another staff"])
def test_a_giver_whose_key_pair_was_replaced_meanwhile_still_gives_the_current_keys(ring, replaced_by):
    # `office add-user --by wang` unlocks wang, then waits for the lock while `keys grant`
    # or `office set-password --recovery` gives wang a fresh key pair (same password) and
    # a rotation adds keys sealed to that new pair only. Under the lock the giver is opened
    # again from the keyring as it stands, with the password it was unlocked with.
    keyring, code = ring
    recovery = keyring.unlock_recovery(code, keep_own=True)
    keyring.enroll(recovery, "wang", "wang-password-1", "*")
    keyring.enroll(recovery, "zhou", "zhou-password-1", "*")
    giver = keyring.unlock("wang", "wang-password-1", keep_own=True)
    replacer = recovery if replaced_by == "recovery" else keyring.unlock("zhou", "zhou-password-1", keep_own=True)
    keyring.enroll(replacer, "wang", "wang-password-1", "*")
    made = keyring.rotate(SECTORS)
    keyring.enroll(giver, "li", "li-password-1", ["transport"])
    li = keyring.unlock("li", "li-password-1")
    assert li.private(made["transport"]) is not None
    assert li.sectors() == {"transport"} and len(li.keys) == 2


def test_a_giver_whose_password_was_changed_meanwhile_is_told_to_run_again(ring):
    keyring, code = ring
    keyring.enroll(keyring.unlock_recovery(code), "wang", "wang-password-1", "*")
    giver = keyring.unlock("wang", "wang-password-1", keep_own=True)
    keyring.enroll(keyring.unlock_recovery(code), "wang", "wang-password-2", "*")
    keyring.rotate(SECTORS)
    with pytest.raises(KeysError, match="changed while this command ran"):
        keyring.enroll(giver, "li", "li-password-1", ["transport"])
    assert "li" not in keyring.holders()
