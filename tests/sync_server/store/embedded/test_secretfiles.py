"""The secret files' one writer and their journal (`secretfiles.py`): a change is whole or
not at all, a kill inside one is finished by whoever looks next, and a change inside
another is refused rather than left waiting for itself."""

from __future__ import annotations

import pytest

from sync_server.sealing.keyring import Keyring, KeysError
from sync_server.store import open_store
from sync_server.store.accounts import check_password
from sync_server.store.embedded import secretfiles
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.secretfiles import JOURNAL, changing_secrets, repair_secrets
from sync_server.store.embedded.tinystore import DamagedFile

OLD, NEW = "old-password-long", "new-password-long"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even `except Exception`)."""


@pytest.fixture
def office(tmp_path, quick_scrypt):
    data = tmp_path / "data"
    Accounts(data).add("amy", OLD, "staff")
    keyring = Keyring(data)
    code = keyring.init(["transport"])
    keyring.enroll(keyring.unlock_recovery(code), "amy", OLD, "*")
    return data


def _set_password_killed_after(data, files_written: int, monkeypatch) -> None:
    """A new password for amy, the process killed after `files_written` files of the change."""
    written = []
    real = secretfiles.atomic_write

    def write(path, payload):
        if path.name != JOURNAL and len(written) == files_written:
            raise Killed
        real(path, payload)
        if path.name != JOURNAL:
            written.append(path.name)

    monkeypatch.setattr(secretfiles, "atomic_write", write)
    with pytest.raises(Killed), changing_secrets(data) as change:
        Keyring(data, change=change).rewrap("amy", OLD, NEW)
        Accounts(data, change).set_password("amy", NEW)
    monkeypatch.setattr(secretfiles, "atomic_write", real)


def _opens_with(data, password: str) -> bool:
    record = Accounts(data).file.get("amy")
    try:
        Keyring(data).unlock("amy", password)
    except KeysError:
        return False
    return check_password(password, record["password"])


@pytest.mark.parametrize("files_written", [0, 1])  # of two: the keyring and the accounts
def test_a_change_killed_between_its_files_is_finished_at_the_next_start(office, monkeypatch, files_written):
    _set_password_killed_after(office, files_written, monkeypatch)
    assert (office / JOURNAL).exists()
    open_store(office, load_triage=False).close()  # the server's start
    assert not (office / JOURNAL).exists()
    assert _opens_with(office, NEW) and not _opens_with(office, OLD)


def test_a_change_killed_before_its_journal_leaves_every_file_as_it_was(office, monkeypatch):
    def killed(files):
        raise Killed

    monkeypatch.setattr(secretfiles, "_journal", killed)
    with pytest.raises(Killed), changing_secrets(office) as change:
        Keyring(office, change=change).rewrap("amy", OLD, NEW)
        Accounts(office, change).set_password("amy", NEW)
    assert not (office / JOURNAL).exists() and _opens_with(office, OLD)


def test_any_reader_finishes_a_half_made_change(office, monkeypatch):
    _set_password_killed_after(office, 1, monkeypatch)
    Accounts(office).get("amy")  # a command reading the accounts
    assert not (office / JOURNAL).exists() and _opens_with(office, NEW)


def test_a_change_that_fails_writes_nothing(office):
    before = {p: p.read_bytes() for p in [*(office / "keys").iterdir(), office / "office" / "users.json"]}
    with pytest.raises(KeysError), changing_secrets(office) as change:
        Accounts(office, change).set_password("amy", NEW)
        Keyring(office, change=change).rewrap("amy", "a-wrong-password", NEW)
    assert {p: p.read_bytes() for p in before} == before


def test_a_change_inside_another_is_refused_rather_than_waiting_for_itself(office):
    with changing_secrets(office), pytest.raises(RuntimeError, match="enclosing change"):
        Keyring(office).rotate(["transport"])


def test_a_damaged_journal_stops_changes_and_readers_read_the_files_as_they_are(office):
    (office / JOURNAL).write_bytes(b'{"format": "minqing-secrets-journal", "files": {"keys/keyring.json": "AAAA"}}')
    assert repair_secrets(office) is False and _opens_with(office, OLD)
    with pytest.raises(DamagedFile), changing_secrets(office):
        pass


def test_a_damaged_journal_is_named_among_the_data_folders_problems(office):
    (office / JOURNAL).write_bytes(b"{not a journal")
    # Observed before: the server started with problems: [] (local health said nothing).
    with open_store(office) as store:
        assert any(JOURNAL in problem and "minqing backup" in problem for problem in store.problems())
