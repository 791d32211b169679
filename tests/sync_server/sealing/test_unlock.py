"""Office unlock: keys live in a session's memory, and a record opens only for its sectors."""

from __future__ import annotations

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.envelope import SealError
from sync_server.sealing.keyring import Keyring
from sync_server.sealing.unlock import OpenRecord, SessionKeys, open_record
from sync_server.store.accounts import Account

FAST = {"n": 2**10, "r": 8, "p": 1}
STATIONS = {"jintan-east-bus": "transport", "rulin-industrial-park": "public-order"}
STAFF = Account("wang", "staff", "王", (), "", False)
TRANSPORT = Account("jiaotong", "department", "交通局", ("transport",), "区交通运输局", False)
ORDER = Account("gongan", "department", "公安", ("public-order",), "区公安分局", False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path):
    keyring = Keyring(tmp_path, scrypt=FAST)
    recovery = keyring.unlock_recovery(keyring.init(["transport", "public-order"]))
    keyring.enroll(recovery, "wang", "staff-password-1", "*")
    keyring.enroll(recovery, "jiaotong", "dept-password-1", ["transport"])
    keyring.enroll(recovery, "gongan", "dept-password-2", ["public-order"])
    return keyring


def _record(keyring: Keyring, station: str, consent: bool = True) -> dict:
    clear = {"id": f"id-{station}", "station_id": station, "created_at": "2026-11-28T01:02:03.000Z",
             "rating": "dissatisfied", "consent": consent}
    sector = STATIONS[station]
    sealed = envelope.seal(clear, f"{sector} 的金丝雀文字", "建议", "13912345678" if consent else None,
                          keyring.public_keys()[sector])
    return {**clear, "sealed": sealed}


def _unlocked(world, account, password):
    sessions = SessionKeys(world)
    assert sessions.unlock("t", account, password, expires=float("inf"))
    return sessions.get("t")


def test_staff_read_text_and_phone_of_every_sector(world):
    unlocked = _unlocked(world, STAFF, "staff-password-1")
    for station, sector in STATIONS.items():
        opened = open_record(STAFF, unlocked, _record(world, station), STATIONS.get, with_phone=True)
        assert opened == OpenRecord(f"{sector} 的金丝雀文字", "建议", "13912345678")


def test_the_phone_is_opened_only_when_asked(world):
    unlocked = _unlocked(world, STAFF, "staff-password-1")
    assert open_record(STAFF, unlocked, _record(world, "jintan-east-bus"), STATIONS.get).phone is None


def test_a_department_session_holds_no_sector_key_even_one_its_account_was_granted(world):
    # It reads through its department's copies of matters dispatched to it
    # (office/department_copies.py), never by sector.
    unlocked = _unlocked(world, TRANSPORT, "dept-password-1")
    assert unlocked.keys == {}
    with pytest.raises(SealError) as caught:
        open_record(TRANSPORT, unlocked, _record(world, "jintan-east-bus"), STATIONS.get)
    assert caught.value.code == "no_key"


def test_a_department_gets_no_plain_text_of_another_sector_whatever_it_asks(world):
    record = _record(world, "rulin-industrial-park")
    unlocked = _unlocked(world, TRANSPORT, "dept-password-1")
    with pytest.raises(SealError) as caught:
        open_record(TRANSPORT, unlocked, record, STATIONS.get)
    assert caught.value.code == "not_your_sector" and "无权" in caught.value.message
    # Lying about the station to pass the sector check: the key is still not there.
    with pytest.raises(SealError) as caught:
        open_record(TRANSPORT, unlocked, {**record, "station_id": "jintan-east-bus"}, STATIONS.get)
    assert caught.value.code == "no_key"
    # Lying about the account: the session holds only transport keys.
    with pytest.raises(SealError):
        open_record(ORDER, unlocked, record, STATIONS.get)


def test_a_record_sealed_to_another_sectors_key_is_not_shown_under_its_station(world):
    unlocked = _unlocked(world, STAFF, "staff-password-1")
    record = _record(world, "jintan-east-bus")
    clear = {**record, "station_id": "rulin-industrial-park"}
    clear["sealed"] = envelope.seal(clear, "借道", "", None, world.public_keys()["transport"])
    with pytest.raises(SealError) as caught:
        open_record(STAFF, unlocked, clear, STATIONS.get)
    assert caught.value.code == "wrong_sector"


def test_a_session_without_keys_opens_nothing_sealed(world):
    with pytest.raises(SealError) as caught:
        open_record(STAFF, None, _record(world, "jintan-east-bus"), STATIONS.get)
    assert caught.value.code == "locked"


def test_records_stored_before_sealing_still_read_within_the_sector_rule(world):
    plain = {"id": "p", "station_id": "rulin-industrial-park", "created_at": "x", "rating": None,
             "feeling": "旧的明文", "suggestion": "", "phone": "13912345678", "consent": True}
    assert open_record(ORDER, None, plain, STATIONS.get).feeling == "旧的明文"
    with pytest.raises(SealError):
        open_record(TRANSPORT, None, plain, STATIONS.get)


def test_logout_forgets_the_keys(world):
    sessions = SessionKeys(world)
    sessions.unlock("t", STAFF, "staff-password-1", expires=float("inf"))
    unlocked = sessions.get("t")
    sessions.forget("t")
    assert sessions.get("t") is None and unlocked.keys == {}


def test_expiry_forgets_the_keys(world):
    clock = Clock()
    sessions = SessionKeys(world, clock=clock)
    sessions.unlock("t", STAFF, "staff-password-1", expires=clock.now + 60)
    sessions.unlock("u", TRANSPORT, "dept-password-1", expires=clock.now + 600)
    assert sessions.get("t") is not None
    clock.now += 61
    assert sessions.get("t") is None
    assert sessions.get("u") is not None


def test_expired_sessions_are_forgotten_at_the_next_log_in(world):
    clock = Clock()
    sessions = SessionKeys(world, clock=clock)
    sessions.unlock("t", STAFF, "staff-password-1", expires=clock.now + 60)
    unlocked = sessions._by_token["t"][0]
    clock.now += 61
    sessions.unlock("u", TRANSPORT, "dept-password-1", expires=clock.now + 600)
    assert "t" not in sessions._by_token and unlocked.keys == {}


def test_an_account_without_keys_logs_in_unsealed(world, tmp_path):
    sessions = SessionKeys(world)
    viewer = Account("kan", "viewer", "看", (), "", False)
    assert not sessions.unlock("t", viewer, "viewer-password-1", expires=float("inf"))
    assert not SessionKeys(Keyring(tmp_path / "none")).unlock("t", STAFF, "staff-password-1", expires=float("inf"))


def test_the_expiry_sweep_survives_a_log_in_adding_a_session_meanwhile(world):
    # Log-ins unlock in a worker thread while the event loop sweeps: a session added in
    # the middle of the sweep's walk must not stop it (a RuntimeError there ended the
    # server's minute task for good, and failed the log-in that swept).
    clock = Clock()
    sessions = SessionKeys(world, clock=clock)
    sessions.unlock("old", TRANSPORT, "dept-password-1", expires=clock.now + 60)

    class AddsASessionWhenCompared(float):
        def __lt__(self, other):
            sessions._by_token.setdefault("new", (sessions._by_token["old"][0], float("inf")))
            return float(self) < other

    sessions._by_token["old"] = (sessions._by_token["old"][0], AddsASessionWhenCompared(clock.now + 60))
    clock.now += 61
    sessions.forget_expired()
    assert "old" not in sessions._by_token and "new" in sessions._by_token
