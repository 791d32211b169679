"""The message after an action: a fixed sentence for each action's code, nothing for a
code the table does not know (a URL never carries the sentence itself)."""

from __future__ import annotations

from sync_server.office.notices import DONE, done_message
from sync_server.triage import ACTIONS


def test_every_action_has_its_own_success_message():
    assert set(ACTIONS) <= set(DONE)
    assert all(sentence.endswith("。") for sentence in DONE.values())


def test_an_unknown_or_forged_code_says_nothing():
    for code in ("", "<script>alert(1)</script>", "已签收", "SIGN", None, "sign "):
        assert done_message(code) == ""
    assert done_message("sign") == DONE["sign"]
