""""Durable" in `store/interfaces.py` means a crash of the machine keeps what a call
acknowledged. A killed process keeps the page cache, so no kill test can tell: here each
write path is seen to fsync the file and its folder (every `os.fsync` removed from
`tinystore`, the rest of the store suite still passed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sync_server.store import open_accounts, open_store
from sync_server.triage import new_entry
from tests.sync_server.store.contract.conftest import stored_record


@pytest.fixture
def fsynced(monkeypatch):
    """The paths `os.fsync` was called on, as the kernel names them."""
    paths: list[str] = []
    real = os.fsync

    def recording(fd):
        try:
            paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            paths.append("?")
        return real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return paths


def _synced(paths: list[str], folder: Path, name_part: str) -> bool:
    return any(Path(p).parent == folder and name_part in Path(p).name for p in paths)


def test_add_fsyncs_the_segment_and_the_inbox_folder(tmp_path, fsynced):
    data = tmp_path / "data"
    with open_store(data) as store:
        fsynced.clear()
        store.submissions.add([stored_record()])
    assert _synced(fsynced, data / "inbox", "segment-000001.json"), fsynced
    assert str(data / "inbox") in fsynced, fsynced


def test_a_triage_put_fsyncs_the_log(tmp_path, fsynced):
    data = tmp_path / "data"
    with open_store(data) as store:
        store.triage.put("a", {**new_entry("2026-12-01T08:00:00+00:00"), "status": "accepted"})
        fsynced.clear()
        store.triage.put("a", {**new_entry("2026-12-01T08:00:00+00:00"), "status": "closed"})
    assert str(data / "office" / "triage.log") in fsynced, fsynced


def test_an_account_change_fsyncs_the_file_and_its_folder(tmp_path, fsynced, quick_scrypt):
    data = tmp_path / "data"
    accounts = open_accounts(data)
    fsynced.clear()
    accounts.add("amy", "a long enough password", "staff")
    assert _synced(fsynced, data / "office", "users.json"), fsynced
    assert str(data / "office") in fsynced, fsynced
