"""`minqing keys init` makes keys that someone holds (issue 20): the new keys take effect
only once the recovery key has reached the operator. Output that fails (a closed pipe, a
full disk under `> recovery.txt`) leaves no keys, a running server seals nothing to keys
nobody holds, and `init` runs again."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from sync_server.store.embedded.inbox import Inbox
from tests.sync_server.conftest import make_item, post_batch

CODE = re.compile(r"^    ([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)$", re.M)


def _init(data, registry, stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync_server.cli", "keys", "init", "--data-dir", str(data),
                           "--registry", str(registry)], stdin=subprocess.DEVNULL, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


def _failed_init(data, registry, output: str) -> subprocess.CompletedProcess:
    if output == "full disk":
        with open("/dev/full", "w") as full:
            return _init(data, registry, full)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before a byte is written: `minqing keys init | true`
    try:
        return _init(data, registry, write_end)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("output", ["closed pipe", "full disk"])
def test_init_whose_recovery_key_cannot_be_written_makes_no_keys_and_runs_again(client, settings, output):
    data, registry = settings.data_dir, settings.registry
    failed = _failed_init(data, registry, output)
    assert failed.returncode != 0
    assert "no keys were made" in failed.stderr and "Traceback" not in failed.stderr
    assert not Keyring(data).exists() and not (data / "keys" / "public.json").exists()
    # The running server seals nothing to the keys of the failed init.
    orphan_time = make_item(feeling="失败之后", station_id="jintan-east-bus")
    assert post_batch(client, [orphan_time]).status_code == 200

    again = _init(data, registry, subprocess.PIPE)
    assert again.returncode == 0, again.stderr
    code = CODE.search(again.stdout).group(1)
    after = make_item(feeling="密钥之后", station_id="jintan-east-bus")
    assert post_batch(client, [after]).status_code == 200
    client.close()
    with Inbox(data, writer=False) as inbox:
        stored = {r["id"]: r for r in inbox.records()}
    assert "sealed" not in stored[orphan_time["id"]] and stored[orphan_time["id"]]["feeling"] == "失败之后"
    sealed = stored[after["id"]]["sealed"]
    _, private = Keyring(data).unlock_recovery(code).private(sealed["kid"])
    assert envelope.open_text(stored[after["id"]], sealed, private).feeling == "密钥之后"


def test_init_written_to_a_file_is_flushed_before_the_keys_take_effect(tmp_path, registry_file):
    data, written = tmp_path / "data", tmp_path / "recovery.txt"
    with open(written, "w") as output:
        done = _init(data, registry_file, output)
    assert done.returncode == 0, done.stderr
    code = CODE.search(written.read_text()).group(1)
    assert Keyring(data).unlock_recovery(code).keys  # the key in the file opens the keys made


def _init_at_a_terminal(data, registry, answers: list[str]) -> tuple[int, str]:
    """`keys init` at a terminal (a pty), answering each question with the next answer;
    an answer may use the `{last}` of the key shown."""
    import pty
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sync_server.cli", "keys", "init", "--data-dir", str(data),
                             "--registry", str(registry)], stdin=follower, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    seen, asked = "", 0
    try:
        while proc.poll() is None or select.select([leader], [], [], 0)[0]:
            if not select.select([leader], [], [], 30)[0]:
                break
            try:
                seen += os.read(leader, 4096).decode()
            except OSError:  # the command ended and closed the terminal
                break
            if seen.count("type its last group") > asked and asked < len(answers):
                last = CODE.search(seen.replace("\r\n", "\n")).group(1).rsplit("-", 1)[-1]
                os.write(leader, answers[asked].format(last=last).encode() + b"\n")
                asked += 1
    finally:
        os.close(leader)
        proc.wait(timeout=60)
    return proc.returncode, seen


def test_init_at_a_terminal_takes_effect_only_when_the_key_is_typed_back(tmp_path, registry_file):
    data = tmp_path / "data"
    status, _ = _init_at_a_terminal(data, registry_file, ["AAAA", "BBBB", "CCCC"])
    assert status != 0 and not Keyring(data).exists()
    status, seen = _init_at_a_terminal(data, registry_file, ["{last}"])
    assert status == 0, seen
    code = CODE.search(seen.replace("\r\n", "\n")).group(1)
    assert Keyring(data).unlock_recovery(code).keys
