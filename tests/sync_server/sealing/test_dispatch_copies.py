"""Department copies: a dispatched matter's words sealed again to the department's key,
bound to the record and the department, opened only with that department's key."""

from __future__ import annotations

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.dispatch_copies import open_copy, seal_copy
from sync_server.store.embedded.copybook import check_copy

CLEAR = {"id": "4b0d8a8e-2b1f-4c55-9a55-5f0a3e1c2d7a", "station_id": "hebin-primary",
         "created_at": "2026-11-28T01:02:03.000Z", "rating": "poor"}


@pytest.fixture
def keys():
    police, market = envelope.generate_private_key(), envelope.generate_private_key()
    return {"police": police, "market": market}


def _copy(keys, department="police", feeling="校门口有人收保护费", suggestion="请派出所处理"):
    return seal_copy(CLEAR, department, feeling, suggestion, envelope.public_key_of(keys[department]))


def test_the_department_opens_its_copy_to_the_words(keys):
    opened = open_copy(CLEAR, "police", _copy(keys), keys["police"])
    assert (opened.feeling, opened.suggestion, opened.well_formed) == ("校门口有人收保护费", "请派出所处理", True)


def test_a_copy_holds_no_words_and_is_what_the_store_accepts(keys):
    copy = _copy(keys)
    assert "校门口" not in str(copy) and check_copy("police", copy) == copy
    assert copy["kid"] == envelope.public_key_of(keys["police"]).kid and copy["department"] == "police"


def test_another_departments_key_does_not_open_it(keys):
    with pytest.raises(envelope.SealError):
        open_copy(CLEAR, "police", _copy(keys), keys["market"])


def test_a_copy_moved_to_another_record_or_department_does_not_open(keys):
    copy = _copy(keys)
    with pytest.raises(envelope.SealError):
        open_copy({**CLEAR, "id": "another"}, "police", copy, keys["police"])
    with pytest.raises(envelope.SealError):
        open_copy({**CLEAR, "rating": "good"}, "police", copy, keys["police"])
    with pytest.raises(envelope.SealError):
        open_copy(CLEAR, "market", {**copy, "department": "market"}, keys["police"])


def test_a_record_envelope_is_not_a_copy_and_a_copy_is_not_a_record_envelope(keys):
    # Distinct labels: a copy never passes for a record's own envelope, nor the reverse.
    public = envelope.public_key_of(keys["police"])
    sealed = envelope.seal(CLEAR, "校门口", "", None, public)
    with pytest.raises(envelope.SealError):
        open_copy(CLEAR, "police", {**_copy(keys), "text": sealed["text"]}, keys["police"])
    with pytest.raises(envelope.SealError):
        envelope.open_text(CLEAR, {**sealed, "text": _copy(keys)["text"]}, keys["police"])


def test_a_copy_is_padded_like_the_envelope(keys):
    short, longer = _copy(keys, feeling="短", suggestion=""), _copy(keys, feeling="长" * 70, suggestion="")
    assert len(short["text"]) == len(longer["text"])


def test_lone_surrogates_never_come_out_of_a_copy(keys):
    opened = open_copy(CLEAR, "police", _copy(keys, feeling="坏\ud800字"), keys["police"])
    assert opened.feeling == "坏\ufffd字"
    opened.feeling.encode("utf-8")
