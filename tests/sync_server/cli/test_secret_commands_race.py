"""Key and account commands run at once beside a server that is sealing uploads (issue 20).

The review lost a sector key for good: `keys rotate` saved a new key, the server sealed a
no-JavaScript upload to it, and `office set-password`, which had loaded the keyring
before the rotation and spent its second of scrypt, saved its older copy over it. Here
every command that changes the keyring or the accounts runs in its own thread, at the
real password cost (that second is the window), while rotations follow each other and
the server takes form posts and batches. Afterwards every stored record must be sealed
and open with the recovery key, and the secret files must be whole
(`tests/sync_server/secrets_check.py`)."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx2 as httpx
import pytest

from minqing.registry import load_registry
from minqing.server_process import ServerProcess
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.inbox import Inbox
from tests.forkserver import launcher
from tests.sync_server.conftest import make_item
from tests.sync_server.secrets_check import secret_violations

PASSWORD = "amy-password-long"
OTHER = "amy-password-other"
GINA = "gina-password-long"
NEW_USER = "new-user-password"
CLI = [sys.executable, "-m", "sync_server.cli"]


def _uploads(url: str, stop: threading.Event, sent: list[str]) -> None:
    """No-JavaScript form posts and plain batches (the server seals both), until stopped."""
    with httpx.Client(base_url=url, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            form = client.post("/api/submissions/form", data={
                "station_id": "hebin-primary", "rating": "fair", "feeling": f"表单第{n}条", "suggestion": "", "phone": ""})
            if form.status_code == 200:
                sent.append("form")
            batch = client.post("/api/submissions/batch", json={
                "device_id": f"tablet-{n}", "submissions": [make_item(feeling=f"批量第{n}条", station_id="jintan-east-bus")]})
            if batch.status_code == 200:
                sent.append("batch")
            stop.wait(0.05)  # pacing under the address limit (20 a second), not a wait for anything


def _run(argv: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    # Each command its own process, forked from one that imported the commands already
    # (tests/forkserver.py): its load, its second of scrypt and its save are unchanged.
    return launcher.run([*CLI, *argv], stdin=stdin, timeout=300)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_key_and_account_commands_at_once_beside_a_sealing_server_lose_no_key(tmp_path, registry_file, built_site,
                                                                               quick_scrypt):
    data = tmp_path / "data"
    sectors = [sector.id for sector in load_registry(registry_file).sectors]
    accounts, keyring = Accounts(data), Keyring(data)
    code = keyring.init(sectors)
    recovery = keyring.unlock_recovery(code)
    passwords = {"amy": [PASSWORD, OTHER], "gina": [GINA]}
    for name, role, password, access in (("amy", "staff", PASSWORD, "*"), ("gina", "department", GINA, sectors[:1]),
                                         ("gone1", "staff", NEW_USER, "*"), ("gone2", "staff", NEW_USER, "*")):
        accounts.add(name, password, role, sectors=access if role == "department" else ())
        keyring.enroll(recovery, name, password, access)
        passwords.setdefault(name, [password])
    passwords.update({"new1": [NEW_USER], "new2": [NEW_USER]})
    registry = ["--registry", str(registry_file)]
    folder = ["--data-dir", str(data)]
    # Each a sequence of its own, all at once; run without the quick cost: a second of
    # scrypt between a command's load and its save is the window the race needs.
    sequences = {
        "set-password": [(["office", "set-password", "amy", "--password-stdin", *folder], f"{PASSWORD}\n{OTHER}\n"),
                         (["office", "set-password", "amy", "--password-stdin", *folder], f"{OTHER}\n{PASSWORD}\n")],
        "grant": [(["keys", "grant", "gina", "--recovery", "--password-stdin", *folder, *registry], f"{code}\n{GINA}\n")] * 2,
        "add-user": [(["office", "add-user", f"new{n}", "--role", "staff", "--recovery", "--password-stdin", *folder],
                      f"{code}\n{NEW_USER}\n") for n in (1, 2)],
        "disable-user": [(["office", "disable-user", f"gone{n}", *folder], "") for n in (1, 2)],
    }
    failed: list[str] = []

    def run_all(steps) -> None:
        for argv, stdin in steps:
            done = _run(argv, stdin)
            if done.returncode != 0:
                failed.append(f"{' '.join(argv[:3])}: {done.stderr.strip()}")

    server = ServerProcess(data, built_site, registry_file).start(timeout=60)
    stop, sent = threading.Event(), []
    try:
        uploader = threading.Thread(target=_uploads, args=(server.url, stop, sent), daemon=True)
        uploader.start()
        workers = [threading.Thread(target=run_all, args=(steps,)) for steps in sequences.values()]
        for worker in workers:
            worker.start()
        rotations = 0
        while any(worker.is_alive() for worker in workers):  # rotations one after another meanwhile
            run_all([(["keys", "rotate", *folder, *registry], "")])
            rotations += 1
        for worker in workers:
            worker.join()
        # The server follows the last rotation: a new upload is sealed to the current key.
        with httpx.Client(base_url=server.url, timeout=30) as client:
            last = make_item(feeling="最后一条", station_id="jintan-east-bus")
            assert client.post("/api/submissions/batch", json={"device_id": "last", "submissions": [last]}).status_code == 200
        stop.set()
        uploader.join()
    finally:
        stop.set()
        server.stop()

    assert rotations >= 2 and len(sent) > 10, (rotations, len(sent))  # the race was run
    with Inbox(data, writer=False) as inbox:
        records = list(inbox.records())
    opener = Keyring(data).unlock_recovery(code)
    unopened = [r["id"] for r in records if "sealed" not in r or opener.private(r["sealed"]["kid"]) is None]
    current = Keyring(data).public_keys()[next(s.sector for s in load_registry(registry_file).stations
                                               if s.id == "jintan-east-bus")]
    [stored_last] = [r for r in records if r["id"] == last["id"]]
    broken = {
        "commands that failed": failed,
        "records that no longer open with the recovery key": f"{len(unopened)} of {len(records)}" if unopened else "",
        "the last upload not sealed to the current key": stored_last.get("sealed", {}).get("kid") != current.kid,
        "secret files": secret_violations(data, code, passwords, {r["sealed"]["kid"] for r in records if "sealed" in r}),
    }
    found = {what: problem for what, problem in broken.items() if problem}
    assert found == {}, "\n".join(f"{what}: {problem}" for what, problem in found.items())
    for record in records[-5:]:
        _, private = opener.private(record["sealed"]["kid"])
        assert envelope.open_text(record, record["sealed"], private).feeling
