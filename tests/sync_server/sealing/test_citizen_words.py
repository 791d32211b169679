"""A citizen's comment or answer, sealed on arrival to the sector key: bound to its
record, kind and step, opened only by a session that may read the record's sector."""

from __future__ import annotations

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.citizen_words import open_citizen_words, open_words, seal_words
from sync_server.sealing.keyring import Unlocked
from sync_server.store.accounts import Account

CLEAR = {"id": "4b0d8a8e-2b1f-4c55-9a55-5f0a3e1c2d7a", "station_id": "hebin-primary",
         "created_at": "2026-11-28T01:02:03.000Z", "rating": "poor"}
STEP = "0b7c9a1e-0000-4000-8000-000000000001"
STAFF = Account("amy", "staff", "王芳", (), "", False)
OTHER = Account("police", "department", "公安", ("public-order",), "police", False)


def _sector(station):
    return {"hebin-primary": "education-health"}.get(station)


@pytest.fixture
def key():
    return envelope.generate_private_key()


def _sealed(key, text="问题依旧，晚上还有人聚集", kind="verdict"):
    return seal_words(CLEAR, kind, STEP, text, envelope.public_key_of(key))


def test_sealed_words_hold_no_plain_text_and_open_with_the_sector_key(key):
    sealed = _sealed(key)
    assert "聚集" not in str(sealed) and sealed["kind"] == "verdict" and sealed["step"] == STEP
    assert open_words(CLEAR, sealed, key) == "问题依旧，晚上还有人聚集"


def test_words_moved_to_another_record_or_passed_off_as_another_kind_do_not_open(key):
    sealed = _sealed(key)
    for clear, changed in [({**CLEAR, "id": "x"}, sealed), (CLEAR, {**sealed, "kind": "answer"}),
                           (CLEAR, {**sealed, "step": "other"}), (CLEAR, {**sealed, "text": sealed["text"][:-4] + "AAAA"})]:
        with pytest.raises(envelope.SealError):
            open_words(clear, changed, key)
    with pytest.raises(envelope.SealError):
        open_words(CLEAR, sealed, envelope.generate_private_key())


def test_a_lone_surrogate_is_sealed_as_a_replacement_character(key):
    assert open_words(CLEAR, _sealed(key, "坏\ud800字"), key) == "坏\ufffd字"


def test_the_office_opens_them_only_for_an_account_of_the_records_sector(key):
    sealed = _sealed(key, kind="answer")
    kid = envelope.public_key_of(key).kid
    unlocked = Unlocked("amy", {kid: ("education-health", key)})
    assert open_citizen_words(STAFF, unlocked, CLEAR, sealed, _sector) == "问题依旧，晚上还有人聚集"
    with pytest.raises(envelope.SealError) as info:
        open_citizen_words(OTHER, unlocked, CLEAR, sealed, _sector)
    assert info.value.code == "not_your_sector"
    with pytest.raises(envelope.SealError) as info:
        open_citizen_words(STAFF, None, CLEAR, sealed, _sector)
    assert info.value.code == "locked"
    assert open_citizen_words(STAFF, None, CLEAR, None, _sector, plain="明文") == "明文"
