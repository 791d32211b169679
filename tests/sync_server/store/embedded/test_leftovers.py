"""Temporary files a killed write left anywhere in the data folder: one rule for all.

A kill between a temporary file's fsync and its rename leaves `.<name>.<random>.tmp`
beside the file it was to replace, holding words and phones in clear. The writer's open
removes every one (inbox, quarantine, office, quick, summaries; keys and the accounts
under the secrets lock, not while a change holds it), and `check` names them."""

from __future__ import annotations

import fcntl
import os

from sync_server.store.embedded.check import check
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.secretfiles import LOCK_NAME

CANARY = b'{"feeling":"PLAINWORDS","phone":"13700130001"}'
WRITER_OWNED = ["inbox/.segment-000001.json.ab12cd_x.tmp", "quarantine/inbox/.segment-000001.json.0123abcd.k9x_2y.tmp",
                "office/.triage.log.q1w2e3r4.tmp", "quick/.0123456789abcdef.v2.log.zz99yy88.tmp",
                "inbox-summaries/.segment-000001.json.aa11bb22.tmp"]
SECRET_OWNED = ["keys/.keyring.json.k3y5k3y5.tmp", "office/.users.json.u5er5u5e.tmp", ".secrets.journal.j0urn4l_.tmp"]


def _leave(data, names):
    for name in names:
        path = data / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CANARY)


def test_check_names_every_leftover_and_the_writer_removes_them_all(tmp_path):
    with Inbox(tmp_path):
        pass
    _leave(tmp_path, WRITER_OWNED + SECRET_OWNED)
    found = check(tmp_path)
    # Observed before: "no problems found", and the quarantine's copy stayed for ever.
    for name in WRITER_OWNED + SECRET_OWNED:
        assert any(name in problem for problem in found.problems), name
    with Inbox(tmp_path):
        pass
    assert [p for p in tmp_path.rglob("*.tmp")] == []
    assert check(tmp_path).problems == []


def test_check_repair_removes_them_and_says_so(tmp_path):
    with Inbox(tmp_path):
        pass
    _leave(tmp_path, WRITER_OWNED)
    found = check(tmp_path, repair=True)
    assert any("temporary" in line for line in found.repaired)
    assert [p for p in tmp_path.rglob("*.tmp")] == []


def test_a_secret_files_leftover_stays_while_a_change_holds_the_secrets_lock(tmp_path):
    # A change in progress owns its temporary file: removing it would fail that change.
    with Inbox(tmp_path):
        pass
    _leave(tmp_path, SECRET_OWNED)
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with Inbox(tmp_path):
            pass
        assert all((tmp_path / name).exists() for name in SECRET_OWNED)
    finally:
        os.close(fd)
    from sync_server.store.embedded import leftovers

    assert {str(p.relative_to(tmp_path)) for p in leftovers.find(tmp_path)} == set(SECRET_OWNED)
    with Inbox(tmp_path):
        pass
    assert leftovers.find(tmp_path) == []


def test_a_file_that_only_looks_like_ours_is_left_alone(tmp_path):
    # Not a leftover of atomic_write: no leading dot, or another ending.
    _leave(tmp_path, ["inbox/segment-000001.json.tmp", "office/.notes.txt"])
    with Inbox(tmp_path):
        pass
    assert (tmp_path / "office" / ".notes.txt").exists() and (tmp_path / "inbox" / "segment-000001.json.tmp").exists()
    assert check(tmp_path).problems == []
