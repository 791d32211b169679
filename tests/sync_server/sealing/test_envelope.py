"""The sealed-envelope format in Python, held to the shared vectors."""

from __future__ import annotations

import base64
import json

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.envelope import SealError
from sync_server.store.retention import without_phone
from tests.conftest import REPO

VECTORS = json.loads((REPO / "tests" / "seal_vectors.json").read_text(encoding="utf-8"))
CASES = VECTORS["cases"]
CLEAR = {"id": "4b0d8a8e-2b1f-4c55-9a55-5f0a3e1c2d7a", "station_id": "rulin-industrial-park",
         "created_at": "2026-11-28T01:02:03.000Z", "rating": "fair"}


def _vector_key():
    return envelope.private_from_bytes(base64.urlsafe_b64decode(VECTORS["recipient"]["private_jwk"]["d"] + "="))


@pytest.fixture(scope="module")
def key():
    private = envelope.generate_private_key()
    return private, envelope.public_key_of(private)


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["clear"]["id"][-1])
def test_vectors_open_to_their_plaintext(case):
    private = _vector_key()
    opened = envelope.open_text(case["clear"], case["sealed"], private)
    assert (opened.feeling, opened.suggestion) == (case["plain"]["feeling"], case["plain"]["suggestion"])
    assert envelope.open_phone(case["clear"], case["sealed"], private) == case["plain"]["phone"]


@pytest.mark.parametrize("failure", VECTORS["failures"], ids=lambda f: f["name"])
def test_altered_vectors_are_refused_with_a_sentence(failure):
    with pytest.raises(SealError) as caught:
        envelope.open_text(failure["clear"], failure["sealed"], _vector_key())
    assert caught.value.code == failure["error"]
    assert "加密" in caught.value.message or "钥匙" in caught.value.message


def test_vector_key_id_is_the_hash_of_its_public_key():
    point = _raw(VECTORS["recipient"]["key"])
    assert envelope.key_id(point) == VECTORS["recipient"]["kid"]
    assert envelope.public_key_of(_vector_key()).kid == VECTORS["recipient"]["kid"]


def test_a_sealed_record_opens_and_holds_no_plain_text(key):
    private, public = key
    sealed = envelope.seal(CLEAR, "门口有人收保护费", "加强巡逻", "13912345678", public)
    dumped = json.dumps(sealed, ensure_ascii=False)
    assert "保护费" not in dumped and "13912345678" not in dumped
    assert envelope.open_text(CLEAR, sealed, private) == envelope.Opened("门口有人收保护费", "加强巡逻")
    assert envelope.open_phone(CLEAR, sealed, private) == "13912345678"


def test_the_same_words_seal_differently_each_time(key):
    _, public = key
    first, second = (envelope.seal(CLEAR, "同样的话", "", None, public) for _ in range(2))
    assert first["text"] != second["text"]


@pytest.mark.parametrize(("length", "blocks"), [(0, 1), (225, 1), (226, 2), (481, 2), (482, 3)])
def test_ciphertext_length_reveals_only_whole_blocks(key, length, blocks):
    _, public = key
    sealed = envelope.seal(CLEAR, "a" * length, "", "13912345678", public)
    assert len(_raw(sealed["text"])) == 65 + 256 * blocks + 16
    assert len(_raw(sealed["phone"])) == 65 + 256 + 16


def test_dropping_the_phone_leaves_the_text_readable(key):
    private, public = key
    sealed = {**envelope.seal(CLEAR, "感受", "建议", "13912345678", public), "phone": None}
    assert envelope.open_text(CLEAR, sealed, private).feeling == "感受"
    assert envelope.open_phone(CLEAR, sealed, private) is None


def test_another_sectors_key_cannot_open_the_record(key):
    _, public = key
    sealed = envelope.seal(CLEAR, "感受", "", None, public)
    with pytest.raises(SealError) as caught:
        envelope.open_text(CLEAR, sealed, envelope.generate_private_key())
    assert caught.value.code == "wrong_key"


def test_a_forged_key_id_does_not_help_another_key(key):
    _, public = key
    other = envelope.generate_private_key()
    sealed = envelope.seal(CLEAR, "感受", "", None, public)
    with pytest.raises(SealError) as caught:
        envelope.open_text(CLEAR, {**sealed, "kid": envelope.public_key_of(other).kid}, other)
    assert caught.value.code == "tampered"


def _envelope(key, **changes):
    return {**envelope.seal(CLEAR, "感受", "", "13912345678", key[1]), **changes}


@pytest.mark.parametrize("changes", [{"v": 2}, {"suite": "RSA-OAEP"}], ids=["v2", "suite"])
def test_unknown_versions_and_suites_are_refused(key, changes):
    with pytest.raises(SealError) as caught:
        envelope.check_envelope(_envelope(key, **changes))
    assert caught.value.code == "unsupported"


@pytest.mark.parametrize("changes", [
    {"kid": "ABCDEF0123456789"}, {"kid": "0123"}, {"kid": 5}, {"text": "不是base64"}, {"text": "AAAA"},
    {"text": "A" * 100_000}, {"text": None}, {"phone": "AAAA"}, {"phone": 7}, {"extra": 1},
    {"v": True}, {"v": "1"}, {"suite": None}, {"kid": None}, {"text": 5},
], ids=["kid-upper", "kid-short", "kid-int", "text-not-b64", "text-short", "text-huge", "text-null",
        "phone-short", "phone-int", "extra-field", "v-true", "v-string", "suite-null", "kid-null", "text-int"])
def test_malformed_envelopes_are_refused(key, changes):
    with pytest.raises(SealError) as caught:
        envelope.check_envelope(_envelope(key, **changes))
    assert caught.value.code == "invalid_envelope"


@pytest.mark.parametrize("sealed", [None, [], "x", {"v": 1}], ids=["none", "list", "string", "partial"])
def test_envelopes_that_are_not_objects_are_refused(sealed):
    with pytest.raises(SealError):
        envelope.check_envelope(sealed)


def test_a_lone_surrogate_in_a_clear_field_is_a_clear_error(key):
    private, public = key
    sealed = envelope.seal(CLEAR, "感受", "", None, public)
    with pytest.raises(SealError) as caught:
        envelope.open_text({**CLEAR, "id": "\ud800"}, sealed, private)
    assert caught.value.code == "invalid_envelope"


RECORD = {**CLEAR, "consent": True, "feeling": "金丝雀感受", "suggestion": "金丝雀建议", "phone": "13912345678",
          "received_at": "2026-11-28T01:02:04+00:00", "flags": []}


def test_seal_record_keeps_the_clear_fields_and_seals_the_rest(key):
    private, public = key
    sealed = envelope.seal_record(RECORD, public)
    assert not set(envelope.SEALED_FIELDS) & set(sealed)
    assert {k: sealed[k] for k in ("id", "station_id", "created_at", "rating", "consent", "received_at", "flags")} == \
        {k: RECORD[k] for k in ("id", "station_id", "created_at", "rating", "consent", "received_at", "flags")}
    assert "金丝雀" not in json.dumps(sealed, ensure_ascii=False) and "13912345678" not in json.dumps(sealed)
    assert envelope.open_text(sealed, sealed["sealed"], private).suggestion == "金丝雀建议"
    with pytest.raises(ValueError, match="already sealed"):
        envelope.seal_record(sealed, public)


def test_a_browser_sealed_record_is_checked_for_key_sector_and_leftover_words(key):
    _, public = key
    sealed = envelope.seal_record(RECORD, public)
    known = {public.kid: "public-order"}
    envelope.check_sealed_record(sealed, known, "public-order")
    for record, kids, sector, code in (
        (sealed, {}, "public-order", "unknown_key"),
        (sealed, known, "transport", "wrong_sector"),
        ({**sealed, "feeling": "明文"}, known, "public-order", "invalid_envelope"),
        ({**sealed, "consent": False}, known, "public-order", "invalid_envelope"),
        ({**sealed, "sealed": None}, known, "public-order", "invalid_envelope"),
    ):
        with pytest.raises(SealError) as caught:
            envelope.check_sealed_record(record, kids, sector)
        assert caught.value.code == code


def test_retention_on_a_sealed_record_drops_only_the_phone(key):
    private, public = key
    kept = without_phone(envelope.seal_record(RECORD, public))
    assert kept["sealed"]["phone"] is None
    assert envelope.open_text(kept, kept["sealed"], private).feeling == "金丝雀感受"
    assert envelope.open_phone(kept, kept["sealed"], private) is None


def test_a_lone_surrogate_in_the_words_is_sealed_as_a_replacement_character(key):
    private, public = key
    sealed = envelope.seal(CLEAR, "半个\ud83d表情", "\udc00", None, public)
    assert envelope.open_text(CLEAR, sealed, private) == envelope.Opened("半个\ufffd表情", "\ufffd")


def test_an_envelope_carrying_an_escaped_lone_surrogate_opens_well_formed(key):
    private, public = key
    plaintext = envelope._pad(b'{"feeling":"a\\ud800b","suggestion":""}')
    text = envelope.seal_bytes(public, envelope._info("text", public.kid, CLEAR), plaintext)
    sealed = {"v": 1, "suite": envelope.SUITE, "kid": public.kid, "text": envelope._b64(text), "phone": None}
    assert envelope.open_text(CLEAR, sealed, private).feeling == "a\ufffdb"


def test_a_quick_copy_opens_with_the_sectors_quick_key_only(key):
    private, public = key
    qkey = envelope.quick_key(private)
    line = envelope.quick_seal(qkey, public.kid, [("id-1", "快速", "副本")])
    assert "快速" not in line and "副本" not in line
    assert envelope.quick_open(qkey, public.kid, line) == [("id-1", "快速", "副本")]
    other = envelope.quick_key(envelope.generate_private_key())
    cut = line[:-3]
    flipped = line[:20] + ("A" if line[20] != "A" else "B") + line[21:]
    for k, kid, text in ((other, public.kid, line), (qkey, "0123456789abcdef", line), (qkey, public.kid, cut),
                         (qkey, public.kid, flipped)):
        with pytest.raises(SealError) as caught:
            envelope.quick_open(k, kid, text)
        assert caught.value.code in ("tampered", "invalid_envelope")


def test_the_bulk_open_opens_each_record_and_names_the_one_that_does_not(key):
    private, public = key
    good = {**CLEAR, "sealed": envelope.seal(CLEAR, "第一条", "建议", "13912345678", public)}
    moved = {**CLEAR, "id": "another", "sealed": good["sealed"]}  # an envelope moved to another record
    opened = dict(envelope.open_texts([good, moved], public.kid, private))
    assert opened[CLEAR["id"]] == envelope.Opened("第一条", "建议")
    assert isinstance(opened["another"], SealError) and opened["another"].code == "tampered"
    with pytest.raises(ValueError):
        list(envelope.open_texts([good], "0123456789abcdef", private))


def test_quick_keys_differ_per_sector_key(key):
    private, _ = key
    assert envelope.quick_key(private) == envelope.quick_key(private) != envelope.quick_key(envelope.generate_private_key())


def test_a_quick_copy_is_as_long_as_its_records_envelopes_say_no_more(key):
    # A batch of one record (opened as it arrives) must not tell its words' exact length:
    # the envelope on disk tells only how many 256-byte blocks they fill.
    private, public = key
    qkey = envelope.quick_key(private)
    uuid = "0b5c1e7a-1111-4222-8333-444455556666"
    short, long_ = "短", "这是一段比较长的话" * 7  # both fill one block in the envelope
    for words in (short, long_):
        assert len(envelope.seal({**CLEAR, "id": uuid}, words, "", None, public)["text"]) == \
            len(envelope.seal({**CLEAR, "id": uuid}, short, "", None, public)["text"])
    lengths = {len(envelope.quick_seal(qkey, public.kid, [(uuid, words, "")])) for words in (short, long_)}
    assert len(lengths) == 1
    # Words that fill the most blocks an envelope allows still fit, and open again.
    most = "长" * 2000
    line = envelope.quick_seal(qkey, public.kid, [(uuid, most, most), (uuid, short, "")])
    assert envelope.quick_open(qkey, public.kid, line) == [(uuid, most, most), (uuid, short, "")]


# --- the size bound: the longest valid words, no more -------------------------------

def _text_of_bytes(key, length: int) -> dict:
    # Any bytes of the right length pass the size check: only a key can tell them apart.
    return _envelope(key, text=base64.urlsafe_b64encode(b"\x07" * length).rstrip(b"=").decode())


def test_the_longest_valid_words_fit_the_envelope(key):
    _, public = key
    # 2,000 characters of 4 UTF-8 bytes in each field: the most bytes valid words can take.
    longest = envelope.seal(CLEAR, "😀" * 2000, "😀" * 2000, "13912345678", public)
    assert envelope.check_envelope(longest) is longest


def test_an_envelope_a_block_above_the_longest_valid_words_is_refused(key):
    _, public = key
    longest = len(_raw(envelope.seal(CLEAR, "😀" * 2000, "😀" * 2000, None, public)["text"]))
    envelope.check_envelope(_text_of_bytes(key, longest))
    with pytest.raises(SealError) as caught:
        envelope.check_envelope(_text_of_bytes(key, longest + envelope.BLOCK))
    assert caught.value.code == "invalid_envelope"


def test_the_bound_follows_the_text_limit_not_a_number_of_its_own():
    from sync_server.words import MAX_JSON_BYTES_PER_CHARACTER, TEXT_LIMIT

    words = len(json.dumps({"feeling": "", "suggestion": ""}, separators=(",", ":"))) \
        + 2 * TEXT_LIMIT * MAX_JSON_BYTES_PER_CHARACTER
    assert envelope.MAX_TEXT_BLOCKS == -(-(words + 1) // envelope.BLOCK)
