"""`minqing keys ...` and the key side of `minqing office ...`, as an operator runs them."""

from __future__ import annotations

import contextlib
import io
import re
import sys

import pytest

from sync_server.cli import keys as keys_cli
from sync_server.cli import main
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from tests.conftest import SAMPLE_REGISTRY

CLEAR = {"id": "c1", "station_id": "jintan-east-bus", "created_at": "2026-11-28T01:02:03.000Z", "rating": None}


class Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture(autouse=True)
def _quick_scrypt(quick_scrypt):
    # In-process, so the stated scrypt cost (tested in test_keyring.py and test_auth.py)
    # can be lowered for speed: key locks and account hashes alike.
    return quick_scrypt


@pytest.fixture(autouse=True)
def _capture(capsys, monkeypatch):
    global _CAPSYS, _MONKEYPATCH
    _CAPSYS, _MONKEYPATCH = capsys, monkeypatch


def _minqing(data, *args, stdin: str | None = None) -> Ran:
    _CAPSYS.readouterr()
    _MONKEYPATCH.setattr("sys.stdin", io.StringIO(stdin or ""))
    try:
        code = main([*args, "--data-dir", str(data)])
    except SystemExit as exc:
        code = exc.code
    out = _CAPSYS.readouterr()
    return Ran(code, out.out, out.err)


def _keys(data, *args, stdin=None):
    return _minqing(data, "keys", *args, "--registry", str(SAMPLE_REGISTRY), stdin=stdin)


@pytest.fixture
def sealed_office(tmp_path):
    """An office with one staff account made before `keys init`, then keys made."""
    data = tmp_path / "data"
    assert _minqing(data, "office", "add-user", "wang", "--role", "staff", "--password-stdin",
                    stdin="staff-password-1\n").returncode == 0
    written = tmp_path / "recovery.txt"
    with open(written, "w") as out, contextlib.redirect_stdout(out):  # `keys init > recovery.txt`
        init = _keys(data, "init")
    assert init.returncode == 0, init.stderr
    code = re.search(r"^    ([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)$", written.read_text(), re.M).group(1)
    return data, code, written.read_text()


def _reads(data, name, password, sector="transport") -> bool:
    keyring = Keyring(data)
    sealed = envelope.seal(CLEAR, "金丝雀", "", None, keyring.public_keys()[sector])
    held = keyring.unlock(name, password).private(sealed["kid"])
    if held is None:
        return False
    return envelope.open_text(CLEAR, sealed, held[1]).feeling == "金丝雀"


def _holds_department(data, name, password, department) -> bool:
    """The account opens its department's current key (what dispatched matters' copies are sealed to)."""
    keyring = Keyring(data)
    return keyring.unlock(name, password).department_private(keyring.department_keys()[department].kid) is not None


def test_init_prints_the_recovery_key_once_and_names_accounts_still_without_keys(sealed_office):
    data, code, out = sealed_office
    assert "shown only this once" in out and "minqing keys grant wang --recovery" in out
    assert code.replace("-", "") not in "".join(p.read_text() for p in (data / "keys").iterdir())
    assert _keys(data, "init").returncode == 2


def test_an_existing_account_is_granted_keys_through_the_recovery_key(sealed_office):
    data, code, _ = sealed_office
    wrong = _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nnot-her-password\n")
    assert wrong.returncode == 2 and "not the password" in wrong.stderr
    result = _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    assert result.returncode == 0, result.stderr
    assert _reads(data, "wang", "staff-password-1", "public-order")


def test_add_user_with_keys_on_needs_a_staff_account_or_the_recovery_key(sealed_office):
    data, code, _ = sealed_office
    refused = _minqing(data, "office", "add-user", "li", "--role", "department", "--sectors", "transport", "--department", "transport",
                       "--password-stdin", stdin="dept-password-1\n")
    assert refused.returncode == 2 and "--recovery" in refused.stderr
    assert "li" not in Keyring(data).holders()
    added = _minqing(data, "office", "add-user", "li", "--role", "department", "--sectors", "transport", "--department", "transport",
                     "--recovery", "--password-stdin", stdin=f"{code}\ndept-password-1\n")
    assert added.returncode == 0, added.stderr
    assert _holds_department(data, "li", "dept-password-1", "transport")
    assert not _reads(data, "li", "dept-password-1", "transport")  # no sector key: it reads what is dispatched to it
    assert not _reads(data, "li", "dept-password-1", "public-order")


def test_a_staff_account_adds_a_user_and_a_wrong_staff_password_adds_nobody(sealed_office):
    data, code, _ = sealed_office
    _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    bad = _minqing(data, "office", "add-user", "zhao", "--role", "staff", "--by", "wang", "--password-stdin",
                   stdin="wrong-password-9\nzhao-password-1\n")
    assert bad.returncode == 2 and "zhao" not in (data / "office" / "users.json").read_text()
    good = _minqing(data, "office", "add-user", "zhao", "--role", "staff", "--by", "wang", "--password-stdin",
                    stdin="staff-password-1\nzhao-password-1\n")
    assert good.returncode == 0, good.stderr
    assert _reads(data, "zhao", "zhao-password-1", "rural")


def test_set_password_rewraps_the_keys(sealed_office):
    data, code, _ = sealed_office
    _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    wrong = _minqing(data, "office", "set-password", "wang", "--password-stdin", stdin="guess-guess-1\nnew-password-1\n")
    assert wrong.returncode == 2 and "current password" in wrong.stderr
    done = _minqing(data, "office", "set-password", "wang", "--password-stdin", stdin="staff-password-1\nnew-password-1\n")
    assert done.returncode == 0, done.stderr
    assert _reads(data, "wang", "new-password-1")


def test_a_forgotten_password_is_reset_through_the_recovery_key(sealed_office):
    data, code, _ = sealed_office
    _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    done = _minqing(data, "office", "set-password", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nfresh-password-1\n")
    assert done.returncode == 0, done.stderr
    assert _reads(data, "wang", "fresh-password-1")


def test_rotate_keeps_old_keys_and_disable_drops_the_holder(sealed_office):
    data, code, _ = sealed_office
    before = Keyring(data).public_keys()["transport"].kid
    rotated = _keys(data, "rotate")
    assert rotated.returncode == 0 and "Old keys are kept" in rotated.stdout
    keyring = Keyring(data)
    assert keyring.public_keys()["transport"].kid != before and before in keyring.sector_of()
    _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    assert _minqing(data, "office", "disable-user", "wang").returncode == 0
    assert "wang" not in Keyring(data).holders()


def test_no_command_takes_a_secret_as_an_argument():
    from sync_server.cli.command import _parser

    seen = []

    def walk(parser):
        for action in parser._actions:
            seen.extend(action.option_strings)
            if isinstance(action.choices, dict):
                for child in action.choices.values():
                    walk(child)
    walk(_parser())
    assert not [o for o in seen if re.search(r"password(?!-stdin)|secret|recovery-key|--key\b", o)]


DAMAGED_JOURNAL = b'{"format": "minqing-secrets-journal", "v": 1, "files": {"keys/keyring.json": "@@"}, "sha256": "x"}'


def test_a_damaged_journal_is_one_sentence_everywhere_and_a_backup_still_carries_it(sealed_office, tmp_path):
    data, _, _ = sealed_office
    (data / "secrets.journal").write_bytes(DAMAGED_JOURNAL)
    # Observed before: `keys rotate` and `backup` ended in a raw traceback; check said "no problems found".
    for args in (("keys", "rotate", "--registry", str(SAMPLE_REGISTRY)),
                 ("office", "disable-user", "wang")):
        ran = _minqing(data, *args, stdin="staff-password-2\n")
        assert ran.returncode != 0 and ran.stderr.count("\n") == 1 and "secrets.journal" in ran.stderr, ran.stderr
        assert "minqing backup" in ran.stderr  # what to do first: nothing is lost
    backup = _minqing(data, "backup", str(tmp_path / "bak"))
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "bak" / "secrets.journal").read_bytes() == DAMAGED_JOURNAL  # as it is: the evidence
    assert "secrets.journal" in backup.stdout + backup.stderr
    assert _minqing(tmp_path / "bak", "backup", "--verify", str(tmp_path / "bak")).returncode == 0
    checked = _minqing(data, "check")
    assert checked.returncode == 1 and "problem: " in checked.stdout and "secrets.journal" in checked.stdout


@pytest.mark.parametrize("replaced_by", [("keys", "grant", "wang", "--recovery"), ("office", "set-password", "wang", "--recovery")])
def test_add_user_by_a_staff_whose_key_pair_was_replaced_while_it_waited_gives_the_current_keys(sealed_office, monkeypatch,
                                                                                                 replaced_by):
    # The review's race, in order: `add-user --by wang` has unlocked wang; before it takes
    # the lock, a grant (or a password set through the recovery key) gives wang a fresh key
    # pair, and a rotation seals its new keys to that pair only.
    data, code, _ = sealed_office
    _keys(data, "grant", "wang", "--recovery", "--password-stdin", stdin=f"{code}\nstaff-password-1\n")
    asked = keys_cli.before_add_user

    def meanwhile(argv: list[str], stdin: str) -> None:
        outer = sys.stdin  # the running command still reads the new user's password from it
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            assert main([*argv, "--data-dir", str(data)]) == 0
        finally:
            monkeypatch.setattr("sys.stdin", outer)

    def unlocked_then_replaced_and_rotated(args, secrets):
        by = asked(args, secrets)
        extra = ["--registry", str(SAMPLE_REGISTRY)] if replaced_by[0] == "keys" else []
        meanwhile([*replaced_by, "--password-stdin", *extra], f"{code}\nstaff-password-1\n")
        meanwhile(["keys", "rotate", "--registry", str(SAMPLE_REGISTRY)], "")
        return by

    monkeypatch.setattr(keys_cli, "before_add_user", unlocked_then_replaced_and_rotated)
    added = _minqing(data, "office", "add-user", "li", "--role", "department", "--sectors", "transport", "--department", "transport", "--by", "wang",
                     "--password-stdin", stdin="staff-password-1\nli-password-1\n")
    assert added.returncode == 0, added.stderr
    assert _holds_department(data, "li", "li-password-1", "transport")  # sealed to the key the rotation made
    assert len(Keyring(data).unlock("li", "li-password-1").departments) == 2
