"""Office work from the command line: accounts, reports, export and retention."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, timedelta

from sync_server.office.commands import export_records, remove_old_phones
from sync_server.store.accounts import check_password
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.sync_server.conftest import make_item


def _minqing(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True, input=stdin)


def _import(tmp_path, registry_file, items):
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"format": "minqing-outbox-export", "device_id": "kiosk-1", "submissions": items}))
    result = _minqing("inbox", "import", str(export), "--data-dir", str(tmp_path / "data"), "--registry", str(registry_file))
    assert result.returncode == 0, result.stderr


def test_accounts_are_stored_as_scrypt_hashes(tmp_path):
    result = _minqing("office", "add-user", "amy", "--role", "staff", "--password-stdin", "--data-dir", str(tmp_path),
                      stdin="correct-horse-battery\n")
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "office" / "users.json").read_text()
    assert "correct-horse-battery" not in raw and "scrypt$" in raw
    assert Accounts(tmp_path).authenticate("amy", "correct-horse-battery").role == "staff"
    _minqing("office", "set-password", "amy", "--password-stdin", "--data-dir", str(tmp_path), stdin="another-long-secret\n")
    assert Accounts(tmp_path).authenticate("amy", "correct-horse-battery") is None
    assert Accounts(tmp_path).authenticate("amy", "another-long-secret") is not None
    _minqing("office", "disable-user", "amy", "--data-dir", str(tmp_path))
    assert Accounts(tmp_path).authenticate("amy", "another-long-secret") is None


def test_add_user_refuses_short_passwords_and_departments_without_a_registry_department(tmp_path):
    short = _minqing("office", "add-user", "bob", "--role", "staff", "--password-stdin", "--data-dir", str(tmp_path), stdin="short\n")
    assert short.returncode == 2 and "at least 10" in short.stderr
    nosector = _minqing("office", "add-user", "bob", "--role", "department", "--password-stdin", "--data-dir", str(tmp_path),
                        stdin="long-enough-secret\n")
    assert nosector.returncode == 2 and "--department" in nosector.stderr
    unknown = _minqing("office", "add-user", "bob", "--role", "department", "--department", "coast-guard",
                       "--password-stdin", "--data-dir", str(tmp_path), stdin="long-enough-secret\n")
    assert unknown.returncode == 2 and "no department 'coast-guard'" in unknown.stderr and "police" in unknown.stderr
    assert not check_password("x", "garbage")


def test_report_and_export_from_the_command_line(tmp_path, registry_file):
    _import(tmp_path, registry_file, [make_item(feeling="命令行导出", phone="13800001111", consent=True)])
    data = str(tmp_path / "data")
    out = tmp_path / "weekly.csv"
    result = _minqing("inbox", "report", "weekly", "--format", "csv", "--output", str(out), "--data-dir", data,
                      "--registry", str(registry_file))
    assert result.returncode == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "本周新收,1" in out.read_bytes().decode("utf-8-sig")
    html = _minqing("inbox", "report", "monthly", "--data-dir", data, "--registry", str(registry_file))
    assert "月例会报告" in html.stdout
    xlsx = tmp_path / "m.xlsx"
    _minqing("inbox", "report", "monthly", "--format", "xlsx", "--output", str(xlsx), "--data-dir", data,
             "--registry", str(registry_file))
    assert xlsx.read_bytes()[:2] == b"PK"
    plain = _minqing("inbox", "export", "--data-dir", data, "--registry", str(registry_file)).stdout
    assert "命令行导出" in plain and "13800001111" not in plain
    assert "13800001111" in _minqing("inbox", "export", "--with-phone", "--data-dir", data, "--registry", str(registry_file)).stdout


def test_the_export_lists_a_merged_duplicate_as_merged_not_closed(tmp_path, registry_file):
    duplicate, matter = make_item(feeling="重复的那条"), make_item(feeling="在办的那条")
    _import(tmp_path, registry_file, [duplicate, matter])
    data = tmp_path / "data"
    TriageBook(data).put_many({
        duplicate["id"]: {**new_entry(""), "status": "closed", "outcome": "merged", "merged_into": matter["id"]},
        matter["id"]: {**new_entry(""), "status": "assigned", "merged": [duplicate["id"]]},
    })
    header, *rows = csv.reader(io.StringIO(export_records(data, registry_file, with_phone=False).decode("utf-8-sig")))
    status = {row[header.index("感受")]: row[header.index("状态")] for row in rows}
    assert status == {"重复的那条": "已合并", "在办的那条": "已交办"}


def test_retention_removes_phones_of_records_closed_long_ago_and_keeps_the_rest(tmp_path, registry_file):
    old, recent, open_ = (make_item(phone=f"1380000{n:04d}", consent=True) for n in range(3))
    _import(tmp_path, registry_file, [old, recent, open_])
    data = tmp_path / "data"
    book = TriageBook(data)
    today = date(2026, 11, 25)
    book.put(old["id"], {**new_entry(""), "status": "closed", "closed_at": f"{today - timedelta(days=200)}T00:00:00+08:00",
                         "updated_at": f"{today - timedelta(days=200)}T00:00:00+08:00"})
    book.put(recent["id"], {**new_entry(""), "status": "closed", "closed_at": f"{today - timedelta(days=10)}T00:00:00+08:00",
                            "updated_at": f"{today - timedelta(days=10)}T00:00:00+08:00"})
    assert remove_old_phones(data, 180, today=today) == 1
    with Inbox(data, writer=False) as inbox:
        phones = {r["id"]: r["phone"] for r in inbox.records()}
        assert inbox.get(old["id"])["feeling"] == old["feeling"]
    assert phones == {old["id"]: None, recent["id"]: recent["phone"], open_["id"]: open_["phone"]}


def test_every_office_subcommand_has_help():
    for command in (["office"], ["office", "add-user"], ["office", "set-password"], ["office", "disable-user"],
                    ["inbox", "report"], ["inbox", "export"], ["inbox", "retention"]):
        result = _minqing(*command, "--help")
        assert result.returncode == 0 and result.stdout.startswith("usage: minqing"), command


def test_adding_an_existing_name_says_it_exists_as_before(tmp_path, monkeypatch, capsys, quick_scrypt):
    # A taken name is said first, before the other checks (as it always was).
    from sync_server.cli import main

    data = ["--data-dir", str(tmp_path / "data"), "--password-stdin"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["office", "add-user", "amy", "--role", "staff", *data]) == 0
    for role, password in (("department", "a long enough password"), ("staff", "short")):
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        assert main(["office", "add-user", "amy", "--role", role, *data]) == 2
        assert capsys.readouterr().err == "error: the user 'amy' already exists.\n"
