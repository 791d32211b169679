"""`minqing keys init` makes keys that someone holds (issue 20): the new keys take effect
only once the recovery key has reached the operator, which only a regular file (written,
synced and read back) or a terminal (the key typed back) can show. A pipe proves nothing
(`| head -n 2` throws the key away and exits 0), output that fails (a closed pipe, a full
disk under `> recovery.txt`) leaves no keys, a running server seals nothing to keys nobody
holds, and `init` runs again.

Every run here starts a session of its own: no controlling terminal (`/dev/tty`) unless
the test gives it one, so nothing waits on the terminal of whoever runs the tests."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios

import pytest

from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from sync_server.store.embedded.inbox import Inbox
from tests.sync_server.conftest import make_item, post_batch

CODE = re.compile(r"^    ([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)$", re.M)


def _argv(data, registry) -> list[str]:
    return [sys.executable, "-m", "sync_server.cli", "keys", "init", "--data-dir", str(data), "--registry", str(registry)]


def _init(data, registry, stdout) -> subprocess.CompletedProcess:
    return subprocess.run(_argv(data, registry), stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120, start_new_session=True)


def _init_to_file(data, registry, path) -> tuple[subprocess.CompletedProcess, str]:
    with open(path, "w") as output:
        done = _init(data, registry, output)
    return done, path.read_text()


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

    again, written = _init_to_file(data, registry, data.parent / "recovery.txt")
    assert again.returncode == 0, again.stderr
    code = CODE.search(written).group(1)
    after = make_item(feeling="密钥之后", station_id="jintan-east-bus")
    assert post_batch(client, [after]).status_code == 200
    client.close()
    with Inbox(data, writer=False) as inbox:
        stored = {r["id"]: r for r in inbox.records()}
    assert "sealed" not in stored[orphan_time["id"]] and stored[orphan_time["id"]]["feeling"] == "失败之后"
    sealed = stored[after["id"]]["sealed"]
    _, private = Keyring(data).unlock_recovery(code).private(sealed["kid"])
    assert envelope.open_text(stored[after["id"]], sealed, private).feeling == "密钥之后"



def _a_pipe_read_like(reader: str, data, registry) -> tuple[int, str, str]:
    """`minqing keys init | <reader>` with no terminal: what the reader let through."""
    with subprocess.Popen(_argv(data, registry), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True) as init:
        taken = subprocess.run(reader.split(), stdin=init.stdout, capture_output=True, timeout=120)
        init.stdout.close()  # as a shell does: only the reader holds the pipe's reading end
        err = init.stderr.read().decode()
    return init.wait(timeout=120), taken.stdout.decode(), err


@pytest.mark.parametrize("reader", ["head -n 2", "cat"])
def test_init_into_a_pipe_with_no_terminal_is_refused_in_one_sentence_and_makes_no_keys(tmp_path, registry_file, reader):
    data = tmp_path / "data"
    status, through, err = _a_pipe_read_like(reader, data, registry_file)
    assert status == 2 and not Keyring(data).exists()
    assert err.count("\n") == 1 and "> recovery.txt" in err and "no keys were made" in err, err
    assert not CODE.search(through)  # a key that opens nothing is not shown at all
    done, written = _init_to_file(data, registry_file, tmp_path / "recovery.txt")  # and it runs again
    assert done.returncode == 0, done.stderr
    assert Keyring(data).unlock_recovery(CODE.search(written).group(1)).keys


def test_init_written_to_a_file_is_flushed_before_the_keys_take_effect(tmp_path, registry_file):
    data, written = tmp_path / "data", tmp_path / "recovery.txt"
    written.write_text("earlier lines of a log\n")
    with open(written, "a") as output:  # `>> recovery.txt`: read back, the key is there after the old lines
        done = _init(data, registry_file, output)
    assert done.returncode == 0, done.stderr
    code = CODE.search(written.read_text()).group(1)
    assert Keyring(data).unlock_recovery(code).keys  # the key in the file opens the keys made


def _init_at_a_terminal(data, registry, answers: list[str], stdin: str = "terminal",
                        stdout: str = "terminal") -> tuple[int, str]:
    """`keys init` with a terminal (a pty) as its controlling terminal, and standard input
    and output each the terminal or not (a pipe, nothing); each question is answered with
    the next answer, where `{last}` is the last group of the key as it came out."""
    leader, follower = pty.openpty()

    def controlled_by_the_pty() -> None:  # in the child, after its new session began
        fcntl.ioctl(follower, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(_argv(data, registry), stdin=follower if stdin == "terminal" else subprocess.DEVNULL,
                            stdout=follower if stdout == "terminal" else subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, preexec_fn=controlled_by_the_pty, pass_fds=(follower,))
    os.close(follower)
    seen, shown, asked = "", "", 0
    try:
        while True:
            ready = select.select([leader], [], [], 30)[0]
            if not ready:
                break
            try:
                seen += os.read(leader, 4096).decode()
            except OSError:  # the command ended and closed the terminal
                break
            if seen.count("type its last group") > asked and asked < len(answers):
                if proc.stdout is not None and select.select([proc.stdout], [], [], 0)[0]:
                    shown += os.read(proc.stdout.fileno(), 65536).decode()  # flushed before the first question
                found = CODE.search((shown or seen).replace("\r\n", "\n"))
                last = found.group(1).rsplit("-", 1)[-1] if found else "????"
                os.write(leader, answers[asked].format(last=last).encode() + b"\n")
                asked += 1
    finally:
        os.close(leader)
        if proc.stdout is not None:
            shown += proc.stdout.read().decode()
            proc.stdout.close()
        proc.wait(timeout=60)
    return proc.returncode, shown or seen


@pytest.mark.parametrize(("stdin", "stdout"), [("terminal", "terminal"), ("none", "terminal"), ("none", "pipe"),
                                                ("terminal", "pipe")])
def test_init_at_a_terminal_takes_effect_only_when_the_key_is_typed_back(tmp_path, registry_file, stdin, stdout):
    # `minqing keys init`, `... < /dev/null`, `... | tee recovery.txt`: the question is asked
    # on the terminal, and the key must be typed back there from what came out.
    data = tmp_path / "data"
    status, _ = _init_at_a_terminal(data, registry_file, ["AAAA", "BBBB", "CCCC"], stdin, stdout)
    assert status != 0 and not Keyring(data).exists()
    status, shown = _init_at_a_terminal(data, registry_file, ["{last}"], stdin, stdout)
    assert status == 0, shown
    code = CODE.search(shown.replace("\r\n", "\n")).group(1)
    assert Keyring(data).unlock_recovery(code).keys
