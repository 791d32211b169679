"""The command line with sealed records: `inbox list|export|report` open sealed words
only with `--by STAFF` or `--recovery` (secrets from the terminal or standard input),
and `keys seal-existing` seals what was stored before the keys."""

from __future__ import annotations

import pytest

from sync_server.sealing.keyring import Keyring
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import Inbox
from tests.conftest import SAMPLE_REGISTRY
from tests.sync_server.cli.test_keys import _capture, _minqing, _quick_scrypt  # noqa: F401 - fixtures
from tests.sync_server.conftest import make_item, store_items

CANARY = "金丝雀命令行Z4"
PHONE = "13955556666"
PASSWORD = "correct-horse-battery"
SECTORS = ["public-order", "rural", "finance", "construction", "transport", "market", "environment",
           "internet", "culture-tourism", "education-health"]


@pytest.fixture
def data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    Accounts(data).add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"])
    return data


@pytest.fixture
def sealed(data):
    keyring = Keyring(data)  # locked at the quick cost of `_quick_scrypt`
    code = keyring.init(SECTORS)
    recovery = keyring.unlock_recovery(code)
    keyring.enroll(recovery, "amy", PASSWORD, "*")
    keyring.enroll(recovery, "police", PASSWORD, ["public-order"])
    store_items(data, SAMPLE_REGISTRY, [make_item(feeling=CANARY, phone=PHONE, consent=True)])
    with Inbox(data, writer=False) as inbox:
        assert all("sealed" in r for r in inbox.records())
    return code


def _inbox(data, *args, stdin=None):
    return _minqing(data, "inbox", *args, "--registry", str(SAMPLE_REGISTRY), stdin=stdin)


def test_export_opens_sealed_words_and_phone_with_a_staff_password_from_stdin(data, sealed, tmp_path):
    out = tmp_path / "out.csv"
    ran = _inbox(data, "export", "--with-phone", "--by", "amy", "--password-stdin", "--output", str(out),
                 stdin=PASSWORD + "\n")
    assert ran.returncode == 0, ran.stderr
    text = out.read_bytes().decode("utf-8-sig")
    assert CANARY in text and PHONE in text


def test_export_without_an_unlocker_refuses_and_says_how(data, sealed):
    ran = _inbox(data, "export")
    assert ran.returncode == 2 and "--by" in ran.stderr and CANARY not in ran.stdout


def test_list_shows_sealed_words_as_sealed_until_unlocked_by_the_recovery_key(data, sealed):
    locked = _inbox(data, "list")
    assert locked.returncode == 0 and "已加密" in locked.stdout and CANARY not in locked.stdout
    opened = _inbox(data, "list", "--recovery", "--password-stdin", stdin=sealed + "\n")
    assert opened.returncode == 0 and CANARY in opened.stdout and PHONE not in opened.stdout


def test_a_department_of_another_sector_opens_nothing(data, sealed):
    ran = _inbox(data, "list", "--by", "police", "--password-stdin", stdin=PASSWORD + "\n")
    assert ran.returncode == 0 and CANARY not in ran.stdout and "已加密" in ran.stdout


def test_a_wrong_password_is_one_line_not_a_traceback(data, sealed):
    ran = _inbox(data, "export", "--by", "amy", "--password-stdin", stdin="wrong\n")
    assert ran.returncode == 2 and "Traceback" not in ran.stderr and CANARY not in ran.stdout


def test_the_monthly_report_needs_no_unlocking(data, sealed):
    ran = _inbox(data, "report", "monthly", "--format", "csv")
    assert ran.returncode == 0 and CANARY not in ran.stdout


def test_the_password_is_never_an_argument(data, sealed):
    ran = _inbox(data, "export", "--by", "amy", "--password", PASSWORD)
    assert ran.returncode == 2  # argparse refuses the unknown option


def test_seal_existing_seals_plain_records_and_a_rerun_changes_nothing(data):
    store_items(data, SAMPLE_REGISTRY, [make_item(feeling=CANARY, phone=PHONE, consent=True) for _ in range(3)])
    code = Keyring(data).init(SECTORS)
    ran = _minqing(data, "keys", "seal-existing", "--registry", str(SAMPLE_REGISTRY))
    assert ran.returncode == 0 and "sealed 3" in ran.stdout
    raw = "".join(p.read_text("utf-8", errors="replace") for p in data.rglob("segment-*.json"))
    assert '"sealed"' in raw and CANARY not in raw and PHONE not in raw
    again = _minqing(data, "keys", "seal-existing", "--registry", str(SAMPLE_REGISTRY))
    assert again.returncode == 0 and "sealed 0" in again.stdout
    opened = _inbox(data, "list", "--recovery", "--password-stdin", stdin=code + "\n")
    assert opened.stdout.count(CANARY) == 3
