"""Receipts: readable aloud, derived from the id, the same in Python and the browser."""

from __future__ import annotations

import uuid

from sync_server.intake.receipt import ALPHABET, normalize, receipt_for

# Shared with tests/e2e/test_form.py, which checks site/docs/js/receipt.js against them.
VECTORS = {
    "00000000-0000-4000-8000-000000000000": receipt_for("00000000-0000-4000-8000-000000000000"),
    "0b5e2a3c-7d1f-4b8a-9c2d-1e2f3a4b5c6d": "5N2PX-VJY8Y",
    "ffffffff-ffff-4fff-bfff-ffffffffffff": receipt_for("ffffffff-ffff-4fff-bfff-ffffffffffff"),
}


def test_receipt_has_no_easily_confused_characters():
    assert not set("0O1IL") & set(ALPHABET)
    for _ in range(200):
        code = receipt_for(str(uuid.uuid4()))
        assert len(code) == 11 and code[5] == "-"
        assert set(code.replace("-", "")) <= set(ALPHABET)


def test_receipt_is_a_pure_function_of_the_id():
    sid = str(uuid.uuid4())
    assert receipt_for(sid) == receipt_for(sid.upper()) == receipt_for(sid)
    assert receipt_for("0b5e2a3c-7d1f-4b8a-9c2d-1e2f3a4b5c6d") == "5N2PX-VJY8Y"


def test_a_retry_attempt_gives_another_code():
    sid = str(uuid.uuid4())
    assert len({receipt_for(sid, attempt) for attempt in range(5)}) == 5


def test_typed_codes_are_normalized():
    assert normalize(" 5n2px vjy8y ") == "5N2PX-VJY8Y"
    assert normalize("5N2PX-VJY8") is None
    assert normalize("5N2PX-VJY80") is None  # 0 is never in a code
    # Typed with a Chinese input method: full-width letters, digits and dash.
    assert normalize("５ｎ２ＰＸ－ＶＪＹ８Ｙ") == "5N2PX-VJY8Y"


def test_receipts_are_unique_in_the_inbox_even_when_the_first_choice_is_taken(client, monkeypatch):
    from sync_server.intake import writer
    from tests.sync_server.conftest import make_item, post_batch

    # Force every id onto the same first code: the inbox must move the second one on.
    monkeypatch.setattr(writer, "receipt_for", lambda sid, attempt=0: receipt_for("0b5e2a3c-7d1f-4b8a-9c2d-1e2f3a4b5c6d", attempt))
    results = post_batch(client, [make_item(), make_item()]).json()["results"]
    assert results[0]["receipt"] == "5N2PX-VJY8Y"
    assert results[1]["receipt"] != results[0]["receipt"]
