"""`minqing inbox list | import | backup` and `minqing serve`'s single-writer rule."""

from __future__ import annotations

import json
import subprocess
import sys

from minqing.server_process import ServerProcess
from tests.sync_server.conftest import make_item


def _minqing(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True, cwd=cwd)


def _export(path, items, device="kiosk-7"):
    path.write_text(json.dumps({"format": "minqing-outbox-export", "version": 1, "device_id": device,
                                "exported_at": "2026-11-25T18:00:00+08:00", "submissions": items}, ensure_ascii=False))
    return path


def test_import_of_a_kiosk_export_is_idempotent(tmp_path, registry_file):
    items = [make_item(feeling=f"第{n}条") for n in range(150)] + [make_item(station_id="gone")]
    export = _export(tmp_path / "export.json", items)
    data = str(tmp_path / "data")
    first = _minqing("inbox", "import", str(export), "--data-dir", data, "--registry", str(registry_file))
    assert first.returncode == 3, first.stderr  # one record rejected: the file did not go in whole
    assert first.stdout.startswith("150 accepted, 0 duplicate, 1 rejected, 0 failed")
    assert "station_id: unknown_station" in first.stdout
    second = _minqing("inbox", "import", str(export), "--data-dir", data, "--registry", str(registry_file))
    assert second.stdout.startswith("0 accepted, 150 duplicate, 1 rejected, 0 failed")
    listing = json.loads(_minqing("inbox", "list", "--json", "--data-dir", data).stdout)
    assert len(listing) == 150 and not any("device_id" in r for r in listing)


def test_import_of_a_clean_export_exits_0_and_stores_the_kiosk_name(tmp_path, registry_file):
    export = _export(tmp_path / "e.json", [make_item(), make_item()])
    data = json.loads(export.read_text())
    export.write_text(json.dumps({**data, "kiosk": "hebin-tablet-1"}))
    result = _minqing("inbox", "import", str(export), "--data-dir", str(tmp_path / "data"), "--registry", str(registry_file))
    assert result.returncode == 0 and result.stdout.startswith("2 accepted, 0 duplicate, 0 rejected, 0 failed")
    listing = json.loads(_minqing("inbox", "list", "--json", "--data-dir", str(tmp_path / "data")).stdout)
    assert {r["kiosk"] for r in listing} == {"hebin-tablet-1"}


def test_import_of_a_file_with_a_lone_surrogate_rejects_that_record_stores_the_rest_and_ends(tmp_path, registry_file):
    honest = [make_item(feeling=f"第{n}条") for n in range(3)]
    export = tmp_path / "e.json"
    export.write_text(json.dumps({"format": "minqing-outbox-export", "version": 1, "device_id": "kiosk-7",
                                  "submissions": [honest[0], make_item(feeling="坏\ud800"), *honest[1:]]}))
    result = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "inbox", "import", str(export), "--data-dir", str(tmp_path / "data"),
         "--registry", str(registry_file)], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3
    assert result.stdout.startswith("3 accepted, 0 duplicate, 1 rejected, 0 failed")
    assert "feeling: invalid_text" in result.stdout
    listing = json.loads(_minqing("inbox", "list", "--json", "--data-dir", str(tmp_path / "data")).stdout)
    assert sorted(r["feeling"] for r in listing) == sorted(i["feeling"] for i in honest)


def test_import_refuses_a_file_with_a_5000_digit_number_in_one_sentence(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "minqing-outbox-export", "device_id": "k", "submissions": [{"rating": ' + "9" * 5000 + "}]}")
    result = _minqing("inbox", "import", str(bad), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1 and "number that is too long" in result.stderr and "Traceback" not in result.stderr


def test_import_refuses_a_file_that_is_not_an_export(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    result = _minqing("inbox", "import", str(bad), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1 and "not a kiosk export" in result.stderr


def test_list_leaves_phone_numbers_out(tmp_path, registry_file):
    export = _export(tmp_path / "e.json", [make_item(phone="13812345678", consent=True)])
    _minqing("inbox", "import", str(export), "--data-dir", str(tmp_path / "data"), "--registry", str(registry_file))
    for args in (["--json"], []):
        out = _minqing("inbox", "list", *args, "--data-dir", str(tmp_path / "data")).stdout
        assert "13812345678" not in out
    [listed] = json.loads(_minqing("inbox", "list", "--json", "--data-dir", str(tmp_path / "data")).stdout)
    assert listed["has_phone"]
    # The keyed digest of the phone is the phone to whoever holds the key (it is in the
    # data folder): a listing handed on must not carry it either.
    assert "phone_fingerprint" not in listed


def test_while_serving_a_second_server_is_refused_import_goes_through_the_api_and_backup_works(
    tmp_path, built_site, registry_file
):
    data = tmp_path / "data"
    export = _export(tmp_path / "e.json", [make_item() for _ in range(3)])
    with ServerProcess(data, built_site, registry_file) as server:
        second = _minqing("serve", "--data-dir", str(data), "--port", "1", "--site-dir", str(built_site),
                          "--registry", str(registry_file))
        assert second.returncode == 1 and "already writing" in second.stderr
        local = _minqing("inbox", "import", str(export), "--data-dir", str(data))
        assert local.returncode == 1 and "--server" in local.stderr
        remote = _minqing("inbox", "import", str(export), "--server", server.url)
        assert remote.stdout.startswith("3 accepted")
        backup = _minqing("inbox", "backup", str(tmp_path / "copy"), "--data-dir", str(data))
        assert backup.returncode == 0 and "3 records" in backup.stdout
    copied = json.loads(_minqing("inbox", "list", "--json", "--data-dir", str(tmp_path / "copy")).stdout)
    assert len(copied) == 3


def test_every_subcommand_has_help():
    for command in (["serve"], ["inbox"], ["inbox", "list"], ["inbox", "import"], ["inbox", "backup"]):
        result = _minqing(*command, "--help")
        assert result.returncode == 0 and result.stdout.startswith("usage: minqing"), command


def test_list_escapes_terminal_control_characters(tmp_path, registry_file):
    # The intake now refuses control characters (invalid_text); a data folder from before
    # may still hold them, so the record is written as such a folder has it.
    from sync_server.store.embedded import tinystore

    hostile = "清屏\x1b[2J\x1b]0;title\x07回车\r覆盖\u202e反转"
    item = make_item(feeling=hostile)
    record = {**item, "fingerprint": "0" * 64, "receipt": "ABCDE-FGHJK", "device_id": "d-old",
              "received_at": "2026-11-20T02:00:00.000+00:00", "flags": []}
    (tmp_path / "data" / "inbox").mkdir(parents=True)
    tinystore.write_docs(tmp_path / "data" / "inbox" / "segment-000001.json", [record], "submissions")
    out = _minqing("inbox", "list", "--data-dir", str(tmp_path / "data")).stdout
    assert "清屏" in out and "\\u001b[2J" in out and "\\u202e" in out
    assert not any(c in out for c in "\x1b\x07\r\u202e")
