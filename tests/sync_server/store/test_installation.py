"""The installation key: made once, kept private, and the only thing that keys derived values."""

from __future__ import annotations

import os
import stat

import pytest

from sync_server.store.installation import KEY_NAME, installation_key, keyed_digest


def test_key_is_created_once_and_private(tmp_path):
    first = installation_key(tmp_path / "data")
    assert len(first) >= 32
    assert installation_key(tmp_path / "data") == first
    assert stat.S_IMODE(os.stat(tmp_path / "data" / KEY_NAME).st_mode) == 0o600


def test_two_installations_have_different_keys(tmp_path):
    assert installation_key(tmp_path / "a") != installation_key(tmp_path / "b")


def test_damaged_key_is_refused_with_a_sentence(tmp_path):
    (tmp_path / KEY_NAME).write_bytes(b"short")
    with pytest.raises(RuntimeError, match="damaged"):
        installation_key(tmp_path)


def test_digest_depends_on_key_and_on_part_boundaries():
    assert keyed_digest(b"k" * 32, "ab", "c") != keyed_digest(b"k" * 32, "a", "bc")
    assert keyed_digest(b"k" * 32, "ab") != keyed_digest(b"j" * 32, "ab")


def test_a_write_that_fails_midway_leaves_no_short_key_behind(tmp_path, monkeypatch):
    # A full disk or a kill between creating the file and writing its bytes used to leave
    # an empty key that every later start refused as damaged.
    import errno

    from sync_server.store import installation

    real_write = os.write

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(installation.os, "write", full_disk)
    with pytest.raises(OSError):
        installation_key(tmp_path)
    monkeypatch.setattr(installation.os, "write", real_write)
    assert len(installation_key(tmp_path)) == 32
    assert [p.name for p in tmp_path.iterdir()] == [KEY_NAME]
