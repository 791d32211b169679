"""Every file that can hold a phone or a citizen's words is created 0600 in folders 0700,
whatever the umask: run every file-writing command under umask 000 and look."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.request

from minqing.server_process import ServerProcess
from tests.sync_server.conftest import make_item

PASSWORD = "correct-horse-battery"


def _minqing(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True, input=stdin,
                            preexec_fn=lambda: os.umask(0))
    assert result.returncode == 0, (args, result.stderr)
    return result


def _too_open(*roots) -> list[str]:
    wrong = []
    for root in roots:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != (0o700 if path.is_dir() else 0o600):
                wrong.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return wrong


def test_every_file_writing_command_keeps_its_files_private_under_umask_000(tmp_path, built_site, registry_file):
    data = tmp_path / "data"
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"format": "minqing-outbox-export", "version": 1, "device_id": "kiosk-1",
                                  "submissions": [make_item(phone="13800001111", consent=True)]}, ensure_ascii=False))
    os.chmod(export, 0o600)
    _minqing("inbox", "import", str(export), "--data-dir", str(data), "--registry", str(registry_file))
    _minqing("office", "add-user", "amy", "--role", "staff", "--password-stdin", "--data-dir", str(data), stdin=PASSWORD)
    _minqing("office", "set-password", "amy", "--password-stdin", "--data-dir", str(data), stdin=PASSWORD)
    _minqing("office", "disable-user", "amy", "--data-dir", str(data))
    server = ServerProcess(data, built_site, registry_file)
    old = os.umask(0)  # the server inherits it
    try:
        server.start()
    finally:
        os.umask(old)
    try:
        body = json.dumps({"device_id": "t-1", "submissions": [make_item(phone="13800002222", consent=True)]}).encode()
        request = urllib.request.Request(server.url + "/api/submissions/batch", body, {"Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(request, timeout=10))["ok"]
    finally:
        server.stop()
    _minqing("inbox", "retention", "--data-dir", str(data))
    _minqing("inbox", "export", "--with-phone", "--output", str(tmp_path / "export.csv"), "--data-dir", str(data),
             "--registry", str(registry_file))
    _minqing("inbox", "report", "weekly", "--with-phone", "--format", "xlsx", "--output", str(tmp_path / "weekly.xlsx"),
             "--data-dir", str(data), "--registry", str(registry_file))
    _minqing("backup", str(tmp_path / "backup"), "--data-dir", str(data))
    _minqing("restore", str(tmp_path / "backup"), str(tmp_path / "restored"))
    _minqing("check", "--repair", "--data-dir", str(tmp_path / "restored"))
    assert _too_open(data, tmp_path / "backup", tmp_path / "restored", tmp_path / "export.csv",
                     tmp_path / "weekly.xlsx") == []


def test_keys_init_and_a_repair_that_quarantines_keep_everything_private_under_umask_000(tmp_path, registry_file):
    # `keys init` may be the first command on a new data folder; `check --repair` on a
    # damaged segment creates the quarantine: both make folders of their own.
    data = tmp_path / "data"
    with open(tmp_path / "recovery.txt", "w") as recovery:  # a pipe is refused: `keys init > recovery.txt`
        subprocess.run([sys.executable, "-m", "sync_server.cli", "keys", "init", "--registry", str(registry_file),
                        "--data-dir", str(data)], stdout=recovery, check=True, start_new_session=True,
                       preexec_fn=lambda: os.umask(0))
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"format": "minqing-outbox-export", "version": 1, "device_id": "kiosk-1",
                                  "submissions": [make_item(phone="13800001111", consent=True)]}, ensure_ascii=False))
    _minqing("inbox", "import", str(export), "--data-dir", str(data), "--registry", str(registry_file))
    segment = data / "inbox" / "segment-000001.json"
    segment.write_bytes(segment.read_bytes()[:-5])
    _minqing("check", "--repair", "--data-dir", str(data))
    assert (data / "quarantine").is_dir()
    assert _too_open(data) == []
