"""Bytes a damaged segment left unreadable open with the recovery key only."""

from __future__ import annotations

import pytest

from sync_server.sealing.damaged import open_damaged, seal_damaged
from sync_server.sealing.keyring import Keyring, KeysError


def test_damaged_bytes_sealed_to_the_recovery_key_open_with_it_and_nothing_else(tmp_path, quick_scrypt):
    keyring = Keyring(tmp_path)
    code = keyring.init(["transport"])
    raw = '{"id": "x", "feeling": "坏了的一条", "phone": "1390000'.encode() + b"\xff\x00"
    sealed = seal_damaged(keyring, raw)
    assert "坏了".encode() not in str(sealed).encode() and b"1390000" not in str(sealed).encode()
    assert open_damaged(keyring, code, sealed) == raw
    other = Keyring(tmp_path / "elsewhere").init(["transport"])
    with pytest.raises(KeysError):
        open_damaged(keyring, other, sealed)
