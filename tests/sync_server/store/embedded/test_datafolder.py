"""The data folder as a store: opened read-only it creates, migrates and copies nothing
(`minqing inbox report --data-dir TYPO` used to leave `TYPO/office/` behind), and an open
that fails lets the writer lock go, so the same process may try again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_server.store import open_store
from sync_server.triage import new_entry


def _files(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def test_reading_a_folder_that_is_not_there_leaves_no_folder_behind(tmp_path):
    typo = tmp_path / "dta"
    with open_store(typo, writer=False) as store:
        assert list(store.submissions.records()) == [] and store.triage.all() == {}
        store.problems()
    assert not typo.exists()


def test_a_read_only_open_changes_no_file(tmp_path):
    data = tmp_path / "data"
    (data / "office").mkdir(parents=True)
    # A triage file from before the log: the writer migrates it at its next start.
    entry = {"_key": "a", **new_entry("2026-12-01T08:00:00+00:00"), "status": "accepted"}
    (data / "office" / "triage.json").write_text(json.dumps({"documents": {"1": entry}}))
    before = _files(data)
    with open_store(data, writer=False) as store:
        store.triage.all()
        store.problems()
    assert _files(data) == before


def test_a_store_that_fails_to_open_lets_the_writer_lock_go(tmp_path):
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    (data / "inbox" / "segment-000001.json").write_text("{damaged")
    (data / "quarantine").write_text("a file where the quarantine folder goes")
    with pytest.raises(OSError):
        open_store(data)  # the damaged segment cannot be moved aside
    (data / "quarantine").unlink()  # the operator clears the cause; the same process retries
    with open_store(data) as store:  # today: StoreLocked, "another minqing process is already writing"
        assert len(store.problems()) == 1
