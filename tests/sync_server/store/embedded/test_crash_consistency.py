"""The crash-consistency harness: every command that writes, killed with SIGKILL at
random moments, at least 30 times each; after every kill, what must hold still holds.

- `inbox import`: stored records are a subset of the file, none twice, never fewer than
  before the kill, every segment readable; a final run stores them all.
- `inbox import` into a nearly full segment: as above, across the segment's close (its
  summary written after the batch); the index read from the summaries says exactly
  what the segments say, for every scenario.
- `inbox retention`: every record keeps its phone or has lost phone, consent and
  fingerprint together (never half), and no record is lost.
- `backup`: a killed backup is refused (verify, and as a data folder); a finished one
  verifies; the source is untouched.
- `office add-user | set-password | disable-user`: the accounts file always reads, and
  every account a finished command made is there.
- with keys on, `keys rotate`, `keys grant`, `office set-password`, `office add-user --by`
  and `office disable-user` (half the kills land between the files of one change): after
  the next start repairs what a kill left, no key is lost (every key the keyring, a record
  or the published keys name opens with the recovery key), and every account logs in and
  opens its keys with the same password, old or new (`tests/sync_server/secrets_check.py`).
- office actions through the server, merges included: a merge is on both records or
  on neither, and every change the server acknowledged is there after the restart.
- triage compaction: every entry survives, merges stay paired.
- `keys seal-existing`: no record lost or doubled, each wholly plain or wholly sealed
  (no words in clear beside an envelope), sealed ones open to what was stored; a rerun
  after the kill finishes the job.
- `restore`: the new folder is empty (and a second run restores it) or it is the whole
  office; the backup is unchanged.
- `check --repair` on a truncated segment: nothing twice, the whole segment always
  there, and a second run saves exactly what one clean run saves.
- retention run by the server itself at start: as for `inbox retention`.

`serve` under upload is `test_faults.py` (100 kills). Each scenario runs in its own
thread, so the kills run in parallel; the figures are printed at the end.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from minqing.registry import load_registry
from minqing.server_process import ServerProcess
from sync_server.filestamp import file_stamp
from sync_server.sealing.envelope import open_phone, open_text
from sync_server.sealing.keyring import Keyring
from sync_server.store.accounts import check_password
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.backup import BackupIncomplete, verify
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import new_entry
from tests.forkserver import Forked, launcher, quick_cost_launcher
from tests.sync_server.conftest import make_item, store_items
from tests.sync_server.secrets_check import secret_violations

KILLS = 30
# Seconds for every scenario to get its kills: far beyond the slowest seen (about 190 s
# with the whole suite beside it on two cores), within the test's timeout.
DEADLINE = 600
PASSWORD = "correct-horse-battery"
OTHER_PASSWORD = "another-horse-battery"
CLI = [sys.executable, "-m", "sync_server.cli"]


def _quick_env() -> dict[str, str]:
    """The commands' environment: the password cost is not what these scenarios test, so
    they ask for the test-only quick cost (`sync_server/cli/passwordcost.py` says why it
    cannot reach a real installation). Read at run time: it needs pytest's own variable."""
    return dict(os.environ, MINQING_TEST_QUICK_SCRYPT="1")


class Figures:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, dict[str, int]] = {}
        self.notes: dict[str, list[str]] = {}
        self.deadline = time.monotonic() + DEADLINE

    def note(self, scenario: str, problems: list[str]) -> None:
        """Keep the first broken promises of a scenario, printed with the figures."""
        with self.lock:
            kept = self.notes.setdefault(scenario, [])
            kept.extend(problems[: max(0, 3 - len(kept))])

    def add(self, scenario: str, **counts: int) -> None:
        with self.lock:
            row = self.rows.setdefault(scenario, {"kills": 0, "records": 0, "violations": 0})
            for key, value in counts.items():
                row[key] = row.get(key, 0) + value

    def more(self, scenario: str) -> bool:
        """Until the scenario has its kills (a run that finished first is not a kill).

        Counted, not timed: under load a run may finish before the kill more often, so a
        scenario runs until its kills are in. `DEADLINE` only stops a scenario whose kills
        never land (the count then fails the test, with the figures)."""
        with self.lock:
            return self.rows.get(scenario, {}).get("kills", 0) < KILLS and time.monotonic() < self.deadline


_finished = threading.local()  # each scenario runs in its own thread


def _killed_run(argv: list[str], chaos: random.Random, within: float, stdin: str | None = None,
                env: dict[str, str] | None = None) -> bool:
    """Run a command and SIGKILL it after a random delay; True if the kill landed.

    The delay is at most `within`, and at most half as much again as this scenario's
    command has typically (the median) taken to run to its end so far: a forked command
    (`_started`) has no start-up to spend the delay in, and a delay past its end is no kill."""
    seconds = getattr(_finished, "seconds", None)
    if seconds is None:
        seconds = _finished.seconds = []
    limit = min(within, 1.5 * statistics.median(seconds)) if seconds else within
    proc = _started(argv, stdin, env)
    began = time.monotonic()
    try:
        proc.wait(timeout=chaos.uniform(0, limit))
        seconds.append(time.monotonic() - began)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def _started(argv: list[str], stdin: str | None, env: dict[str, str] | None) -> Forked:
    # A fork of a process that has imported the commands already (tests/forkserver.py):
    # the kill lands in the command's work, not in its imports.
    return launcher.popen(argv, stdin, env)


def _export(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps({"format": "minqing-outbox-export", "version": 1, "device_id": "kiosk-1",
                                "exported_at": "2026-11-25T18:00:00+08:00", "submissions": items}, ensure_ascii=False))
    return path


def _records(data: Path) -> list[dict]:
    with Inbox(data, writer=False) as inbox:
        assert inbox.problems == [], inbox.problems
        records = list(inbox.records())
        # The index comes from the segment summaries where they match: it must say
        # exactly what the segments say (a stale summary trusted would lose or double).
        assert _index_agrees(inbox, records)
        return records


def _index_agrees(inbox: Inbox, records: list[dict]) -> bool:
    from sync_server.store.fingerprint import Fingerprints

    return (sorted(inbox._index) == sorted(r["id"] for r in records)
            and all(inbox.receipt(r["id"]) == r["receipt"] and inbox.receipt_owner(r["receipt"]) == r["id"]
                    and inbox.fingerprints(r["id"]) == Fingerprints.stored(r) for r in records))


def _fill(data: Path, registry: Path, count: int, **fields) -> list[dict]:
    items = [make_item(feeling=f"第{n}条", **fields) for n in range(count)]
    store_items(data, registry, items)
    return items


# -- scenarios ------------------------------------------------------------------------------


def scenario_import(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "import"
    items = [make_item(feeling=f"导入第{n}条") for n in range(400)]
    export = _export(root / "import.json", items)
    ids, seen = {i["id"] for i in items}, 0
    argv = [*CLI, "inbox", "import", str(export), "--data-dir", str(data), "--registry", str(registry)]
    while figures.more("inbox import"):
        killed = _killed_run(argv, chaos, 1.2)
        stored = [r["id"] for r in _records(data)] if data.exists() else []
        bad = len(stored) != len(set(stored)) or not set(stored) <= ids or len(stored) < seen
        seen = len(stored)
        figures.add("inbox import", kills=int(killed), violations=int(bad))
        if seen == len(ids):  # all in: start over, so later kills land mid-import again
            shutil.rmtree(data)
            seen = 0
    subprocess.run(argv, check=True, capture_output=True)
    stored = [r["id"] for r in _records(data)]
    figures.add("inbox import", records=len(stored), violations=int(sorted(stored) != sorted(ids)))


def scenario_segment_close(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    # An import into an inbox whose open segment is nearly full: each kill lands around
    # a segment's close, when its summary is written after the batch.
    base = root / "close-base"
    _fill(base, registry, 980)
    items = [make_item(feeling=f"跨段第{n}条") for n in range(300)]
    export = _export(root / "close.json", items)
    n, crossed = 0, 0
    while figures.more("segment close"):
        n += 1
        data = root / f"close-{n}"
        shutil.copytree(base, data)
        argv = [*CLI, "inbox", "import", str(export), "--data-dir", str(data), "--registry", str(registry)]
        killed = _killed_after(argv, data / "inbox" / "segment-000002.json", chaos)
        stored: list[str] = []
        try:
            before = _records(data)
            with Inbox(data) as inbox:  # a writer's open rebuilds what a kill left stale
                after = list(inbox.records())
                bad = int(not _index_agrees(inbox, after))
            stored = [r["id"] for r in after]
            bad += int(len(stored) != len(set(stored)) or len(stored) < 980 or stored != [r["id"] for r in before])
        except AssertionError:
            bad = 1
        crossed += int(killed and len(stored) > 980)
        figures.add("segment close", kills=int(killed), records=len(stored), violations=bad)
        shutil.rmtree(data)
    # Kills that all came before the close would prove nothing about it.
    figures.add("segment close", violations=int(crossed == 0))


def _killed_after(argv: list[str], sign: Path, chaos: random.Random) -> bool:
    """Run a command and SIGKILL it a random moment (up to 50 ms) after `sign` appears,
    so the kill lands around that write however busy the machine is; True if it landed."""
    proc = launcher.popen(argv)
    deadline = time.monotonic() + 120
    while not sign.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)  # polling for the sign, not waiting for an absence
    time.sleep(chaos.uniform(0, 0.05))
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _retention_killed(root: Path, registry: Path, figures: Figures, chaos: random.Random, name: str,
                      argv_for, kill_within: float) -> None:
    """Retention, by whichever command `argv_for(data)` runs, killed at random: every record
    stays, and none is left with its phone half removed."""
    slug = name.replace(" ", "-")
    base = root / f"{slug}-base"
    items = _fill(base, registry, 1200, phone="13800001111", consent=True)
    closed = {**new_entry("2026-01-01T00:00:00+00:00"), "status": "closed", "closed_at": "2026-01-02T00:00:00+00:00"}
    TriageBook(base).put_many({i["id"]: closed for i in items})
    n = 0
    while figures.more(name):
        n += 1
        data = root / f"{slug}-{n}"
        shutil.copytree(base, data)
        killed = _killed_run(argv_for(data), chaos, kill_within)
        records = _records(data)
        half = [r for r in records if (r["phone"] is None) != ("phone_removed" in r["flags"])
                or (r["phone"] is None and (r["consent"] or r.get("phone_fingerprint")))]
        figures.add(name, kills=int(killed), records=len(records),
                    violations=int(len(records) != 1200) + len(half))
        shutil.rmtree(data)


def scenario_retention(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    _retention_killed(root, registry, figures, chaos, "inbox retention",
                      lambda data: [*CLI, "inbox", "retention", "--data-dir", str(data)], 1.5)


def scenario_seal_existing(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    base = root / "seal-base"
    items = {i["id"]: i for i in _fill(base, registry, 2500, phone="13800002222", consent=True)}
    recovery = Keyring(base).init(["education-health"])
    opener = Keyring(base).unlock_recovery(recovery)
    argv = [*CLI, "keys", "seal-existing", "--registry", str(registry), "--data-dir"]
    n, data = 0, None
    while figures.more("keys seal-existing"):
        n += 1
        if data is None:
            data = root / f"seal-{n}"
            shutil.copytree(base, data)
        killed = _killed_run([*argv, str(data)], chaos, 4.0)
        records = _records(data)
        sealed = [r for r in records if "sealed" in r]
        bad = int(sorted(r["id"] for r in records) != sorted(items))
        bad += sum(1 for r in sealed if r["feeling"] or r["suggestion"] or r["phone"])
        bad += sum(1 for r in records if "sealed" not in r and r["feeling"] != items[r["id"]]["feeling"])
        for record in chaos.sample(sealed, min(10, len(sealed))):
            _, private = opener.private(record["sealed"]["kid"])
            text = open_text(record, record["sealed"], private)
            bad += int(text.feeling != items[record["id"]]["feeling"]
                       or open_phone(record, record["sealed"], private) != "13800002222")
        figures.add("keys seal-existing", kills=int(killed), records=len(records), violations=bad)
        if len(sealed) == len(records):  # done: start over, so later kills land mid-run again
            shutil.rmtree(data)
            data = None
    if data is not None:  # the last kill's folder: a plain rerun finishes it
        subprocess.run([*argv, str(data)], check=True, capture_output=True)
        figures.add("keys seal-existing", violations=sum(1 for r in _records(data) if "sealed" not in r))


def scenario_backup(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "backup-source"
    _fill(data, registry, 1500)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    TriageBook(data).put("x", new_entry("2026-11-25T00:00:00+00:00"))
    before = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    n = 0
    while figures.more("backup"):
        n += 1
        dest = root / f"backup-{n}"
        killed = _killed_run([*CLI, "backup", str(dest), "--data-dir", str(data)], chaos, 2.5)
        try:
            manifest = verify(dest)
            complete = True
        except BackupIncomplete:
            complete = False
        bad = 0
        if complete:
            bad += int(manifest["counts"]["records"] != 1500 or len(_records(dest)) != 1500)
        elif dest.exists() and any(dest.iterdir()):
            # (Killed between making the folder and its marker, a backup leaves an empty
            # folder: nothing in it to mistake, and `verify` above refused it.)
            try:
                Inbox(dest, writer=False).close()
                bad += 1  # an incomplete backup opened as if it were whole
            except BackupIncomplete:
                pass
        after = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
        bad += int(after != before)
        figures.add("backup", kills=int(killed), records=1500 if complete else 0, violations=bad)
    # Under load every run may be killed: a finished backup must verify, whole, too.
    dest = root / "backup-final"
    subprocess.run([*CLI, "backup", str(dest), "--data-dir", str(data)], check=True, capture_output=True)
    records = verify(dest)["counts"]["records"]
    figures.add("backup", records=records, violations=int(records != 1500 or len(_records(dest)) != 1500))


def scenario_accounts(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "accounts"
    Accounts(data).add("keeper", PASSWORD, "staff", "王干事")
    made: set[str] = {"keeper"}
    n = 0
    while figures.more("office accounts"):
        n += 1
        name = f"user{n}"
        command = [["add-user", name, "--role", "viewer"], ["set-password", "keeper"], ["disable-user", "keeper"]][n % 3]
        killed = _killed_run([*CLI, "office", *command, "--data-dir", str(data),
                              *([] if command[0] == "disable-user" else ["--password-stdin"])], chaos, 0.9,
                             stdin=PASSWORD + "\n", env=_quick_env())
        accounts = Accounts(data)
        if command[0] == "add-user" and accounts.get(name) is not None:
            made.add(name)
        keeper = accounts.file.get("keeper")
        bad = int(accounts.file.problem is not None) + sum(accounts.get(m) is None for m in made)
        bad += int(keeper is None or not check_password(PASSWORD, keeper["password"]))
        figures.add("office accounts", kills=int(killed), records=len(made), violations=bad)


SECRET_FILES = ("keys/keyring.json", "keys/public.json", "office/users.json")
USER_PASSWORD = "a-user-password-1"


def _killed_in_change(argv: list[str], data: Path, chaos: random.Random, stdin: str | None = None) -> bool:
    """Half the runs: SIGKILL at a random moment. The other half: a random moment (up to
    20 ms) after the first secret file is replaced, so the kill lands between the files of
    one change, where a split account or a stale public file is made."""
    if chaos.random() < 0.5:
        return _killed_run(argv, chaos, 0.8, stdin=stdin, env=_quick_env())
    before = [file_stamp(data / name) for name in SECRET_FILES]
    proc = _started(argv, stdin, _quick_env())
    deadline = time.monotonic() + 120
    while ([file_stamp(data / name) for name in SECRET_FILES] == before and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.002)  # polling for the sign, not waiting for an absence
    time.sleep(chaos.uniform(0, 0.02))
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _keys_world(root: Path, registry: Path, name: str) -> tuple[Path, str, list[str]]:
    """A data folder with keys for every sector and the staff account amy holding them."""
    data = root / name
    sectors = [sector.id for sector in load_registry(registry).sectors]
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    keyring = Keyring(data)
    code = keyring.init(sectors)
    keyring.enroll(keyring.unlock_recovery(code), "amy", PASSWORD, "*")
    return data, code, sectors


def _check_secrets(figures: Figures, scenario: str, data: Path, code: str, passwords, killed: bool,
                   changed: tuple[str, ...] = ("amy",)) -> None:
    # A journal left behind: the kill landed inside a commit, which the next reader finishes.
    inside = (data / "secrets.journal").exists()
    # Passwords are tried for the accounts this run changed (and amy, who gives the keys):
    # the others were tried after the run that changed them, and who holds keys is checked for all.
    problems = secret_violations(data, code, passwords, changed={"amy", *changed})
    figures.note(scenario, problems)
    figures.add(scenario, kills=int(killed), violations=len(problems), rolled_forward=int(inside))


def scenario_rotate(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data, code, _ = _keys_world(root, registry, "rotate")
    argv = [*CLI, "keys", "rotate", "--data-dir", str(data), "--registry", str(registry)]
    while figures.more("keys rotate"):
        killed = _killed_in_change(argv, data, chaos)
        _check_secrets(figures, "keys rotate", data, code, {"amy": [PASSWORD]}, killed)
    figures.add("keys rotate", records=len(Keyring(data).sector_of()))  # keys made, each still opens


def scenario_grant(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data, code, sectors = _keys_world(root, registry, "grant")
    Accounts(data).add("gina", USER_PASSWORD, "department", sectors=sectors[:1])
    keyring = Keyring(data)
    keyring.enroll(keyring.unlock_recovery(code), "gina", USER_PASSWORD, sectors[:1])
    argv = [*CLI, "keys", "grant", "gina", "--recovery", "--password-stdin", "--data-dir", str(data),
            "--registry", str(registry)]
    regranted = 0
    while figures.more("keys grant"):
        before = Keyring(data)._load()["holders"]["gina"]["kid"]
        killed = _killed_in_change(argv, data, chaos, stdin=f"{code}\n{USER_PASSWORD}\n")
        _check_secrets(figures, "keys grant", data, code, {"amy": [PASSWORD], "gina": [USER_PASSWORD]}, killed,
                       ("gina",))
        regranted += int(Keyring(data)._load()["holders"]["gina"]["kid"] != before)
    figures.add("keys grant", records=regranted)


def scenario_set_password(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    # amy's password goes back and forth; every third change as for a forgotten one (the
    # recovery key gives her a fresh key pair), the others with her current password.
    data, code, _ = _keys_world(root, registry, "set-password")
    current, n, changed = PASSWORD, 0, 0
    while figures.more("office set-password"):
        n += 1
        new = OTHER_PASSWORD if current == PASSWORD else PASSWORD
        forgotten = n % 3 == 0
        argv = [*CLI, "office", "set-password", "amy", "--password-stdin", "--data-dir", str(data),
                *(["--recovery"] if forgotten else [])]
        killed = _killed_in_change(argv, data, chaos, stdin=f"{code if forgotten else current}\n{new}\n")
        _check_secrets(figures, "office set-password", data, code, {"amy": [PASSWORD, OTHER_PASSWORD]}, killed)
        if check_password(new, Accounts(data).file.get("amy")["password"]):
            current, changed = new, changed + 1
    figures.add("office set-password", records=changed)


def scenario_add_user(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data, code, sectors = _keys_world(root, registry, "add-user")
    passwords, n = {"amy": [PASSWORD]}, 0
    while figures.more("office add-user"):
        n += 1
        name = f"user{n}"
        sector = sectors[n % len(sectors)]
        role = ["--role", "staff"] if n % 2 else ["--role", "department", "--sectors", sector, "--registry", str(registry),
                                                  "--department", load_registry(registry).lead_of(sector).id]
        passwords[name] = [USER_PASSWORD]
        argv = [*CLI, "office", "add-user", name, *role, "--by", "amy", "--password-stdin", "--data-dir", str(data)]
        killed = _killed_in_change(argv, data, chaos, stdin=f"{PASSWORD}\n{USER_PASSWORD}\n")
        _check_secrets(figures, "office add-user", data, code, passwords, killed, (name,))
    figures.add("office add-user", records=len(Accounts(data).names()) - 1)


def scenario_disable_user(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data, code, _ = _keys_world(root, registry, "disable-user")
    passwords, n = {"amy": [PASSWORD]}, 0
    while figures.more("office disable-user"):
        n += 1
        name = f"gone{n}"
        Accounts(data).add(name, USER_PASSWORD, "staff")
        keyring = Keyring(data)
        keyring.enroll(keyring.unlock_recovery(code), name, USER_PASSWORD, "*")
        passwords[name] = [USER_PASSWORD]
        killed = _killed_in_change([*CLI, "office", "disable-user", name, "--data-dir", str(data)], data, chaos)
        _check_secrets(figures, "office disable-user", data, code, passwords, killed, (name,))
    accounts = Accounts(data)
    figures.add("office disable-user", records=sum(accounts.get(name).disabled for name in accounts.names()))


def _login(client: httpx.Client) -> None:
    page = client.get("/office/login")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    client.post("/office/login", data={"name": "amy", "password": PASSWORD, "token": token})


def _live(entries: dict[str, dict], sid: str) -> str:
    """The record a merge chain from `sid` ends at: the matter still handled."""
    seen = set()
    while (entries.get(sid) or {}).get("merged_into") and sid not in seen:
        seen.add(sid)
        sid = entries[sid]["merged_into"]
    return sid


def _merge_pairs(entries: dict[str, dict]) -> int:
    """Half-applied merges: one side says merged, the other does not know."""
    bad = 0
    for sid, entry in entries.items():
        if entry.get("merged_into"):
            target = entries.get(entry["merged_into"]) or {}
            bad += int(sid not in target.get("merged", []))
        for source in entry.get("merged", []):
            bad += int((entries.get(source) or {}).get("merged_into") != sid)
    return bad


def scenario_office_server(root: Path, registry: Path, site: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "office"
    items = _fill(data, registry, 80)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    with Inbox(data, writer=False) as inbox:
        receipts = {i["id"]: inbox.receipt(i["id"]) for i in items}
    pending = [i["id"] for i in items]
    acknowledged: dict[str, str] = {}  # record id -> action the server confirmed
    # amy logs in at every start: at the suite's quick cost, not a second of scrypt each.
    server = ServerProcess(data, site, registry, launcher=quick_cost_launcher)
    for _ in range(KILLS):  # every round ends in a kill
        server.start(timeout=90)  # eight other scenarios load the machine meanwhile
        stop, ready = threading.Event(), threading.Event()

        def work(port=server.port, stop=stop, ready=ready) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                try:
                    _login(client)
                    ready.set()
                    while not stop.is_set() and len(pending) >= 2:
                        source, target = pending[0], pending[1]
                        page = client.get("/office/records")
                        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                        if (TriageBook(data).entry(source) or {}).get("merged_into"):
                            pending.pop(0)
                            continue
                        reply = client.post(f"/office/records/{source}/action", follow_redirects=False,
                                            data={"csrf": token, "action": "merge", "into": receipts[target],
                                                  "confirm": "yes"})
                        if reply.status_code == 303 and "error" not in reply.headers.get("location", ""):
                            acknowledged[source] = target
                            pending.pop(0)
                except (httpx.HTTPError, AttributeError):
                    pass  # the server was killed under us
                finally:
                    ready.set()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        ready.wait(timeout=10)
        time.sleep(chaos.uniform(0.0, 0.5))  # the kill lands among the merges
        server.kill()
        stop.set()
        worker.join(timeout=10)
        entries = TriageBook(data).all()
        # A merged record moves on with its target when that is merged in turn: an
        # acknowledged merge holds while the record follows the matter its target went to.
        lost = sum((entries.get(s) or {}).get("merged_into") != _live(entries, t) for s, t in acknowledged.items())
        figures.add("office merges via the server", kills=1, violations=_merge_pairs(entries) + lost)
    figures.add("office merges via the server", records=len(acknowledged))


COMPACTOR = """
import sys
from sync_server.store.embedded.triagebook import TriageBook
book = TriageBook(sys.argv[1])
n = 0
while True:
    n += 1
    entries = book.all()
    a, b = f"a{n % 50}", f"b{n % 50}"
    book.put_many({a: {**entries.get(a, {}), "merged_into": b, "n": n},
                   b: {**entries.get(b, {}), "merged": [a], "n": n}})
    if n % 7 == 0:
        book.compact()
"""


def scenario_compaction(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "compaction"
    book = TriageBook(data)
    book.put_many({f"keep{n}": {**new_entry("2026-11-25T00:00:00+00:00"), "n": n} for n in range(300)})
    while figures.more("triage compaction"):
        killed = _killed_run([sys.executable, "-c", COMPACTOR, str(data)], chaos, 0.8)
        entries = TriageBook(data).all()
        pairs = {k: v for k, v in entries.items() if not k.startswith("keep")}
        bad = _merge_pairs(pairs) + sum(f"keep{n}" not in entries for n in range(300))
        bad += sum(pairs.get(f"a{m}", {}).get("n") != pairs.get(f"b{m}", {}).get("n") for m in range(50))
        figures.add("triage compaction", kills=int(killed), records=len(entries), violations=bad)


def scenario_restore(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    source = root / "restore-source"
    items = _fill(source, registry, 1500)
    Accounts(source).add("amy", PASSWORD, "staff", "王干事")
    backup_dir = root / "restore-backup"
    subprocess.run([*CLI, "backup", str(backup_dir), "--data-dir", str(source)], check=True, capture_output=True)
    ids = sorted(i["id"] for i in items)
    n = 0
    while figures.more("restore"):
        n += 1
        target = root / f"restored-{n}" / "data"
        argv = [*CLI, "restore", str(backup_dir), str(target)]
        killed = _killed_run(argv, chaos, 1.5)
        bad = 0
        if target.exists() and any(target.iterdir()):
            # Not empty: then whole, the same office, and servable.
            try:
                with Inbox(target) as inbox:
                    bad += int(sorted(r["id"] for r in inbox.records()) != ids)
                bad += int(Accounts(target).get("amy") is None)
            except Exception:
                bad += 1
        else:
            done = launcher.run(argv)  # the operator runs it again
            bad += int(done.returncode != 0 or sorted(r["id"] for r in _records(target)) != ids)
        figures.add("restore", kills=int(killed), records=len(ids), violations=bad)
        shutil.rmtree(target.parent)
    bad = int(verify(backup_dir)["counts"]["records"] != 1500)  # restoring never changes the backup
    figures.add("restore", violations=bad)


def scenario_repair(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    base = root / "repair-base"
    _fill(base, registry, 1500)  # segments of 1,000: the second holds 500
    segments = sorted((base / "inbox").glob("segment-*.json"))
    newest = segments[-1]
    newest.write_bytes(newest.read_bytes()[:-3000])  # a truncated newest segment
    whole = {r["id"] for r in tinystore_docs(segments[0])}
    reference = root / "repair-reference"
    shutil.copytree(base, reference)
    subprocess.run([*CLI, "check", "--repair", "--data-dir", str(reference)], capture_output=True)
    with Inbox(reference, writer=False) as inbox:
        saved = sorted(inbox._index)
    n = 0
    while figures.more("check --repair"):
        n += 1
        data = root / f"repair-{n}"
        shutil.copytree(base, data)
        argv = [*CLI, "check", "--repair", "--data-dir", str(data)]
        killed = _killed_run(argv, chaos, 1.0)
        with Inbox(data, writer=False) as inbox:
            now = [r["id"] for r in inbox.records()]
        bad = int(len(now) != len(set(now))) + int(not whole <= set(now))
        launcher.run(argv)  # the operator runs it again: all that can be saved, once
        with Inbox(data, writer=False) as inbox:
            after = [r["id"] for r in inbox.records()]
        bad += int(sorted(after) != saved)
        figures.add("check --repair", kills=int(killed), records=len(after), violations=bad)
        shutil.rmtree(data)


def tinystore_docs(path: Path) -> list[dict]:
    from sync_server.store.embedded import tinystore

    return tinystore.read_docs(path, "submissions")


def scenario_server_retention(root: Path, registry: Path, site: Path, figures: Figures,
                              chaos: random.Random) -> None:
    _retention_killed(root, registry, figures, chaos, "retention by the server",
                      lambda data: [*CLI, "serve", "--port", "0", "--data-dir", str(data), "--site-dir", str(site),
                                    "--registry", str(registry)], 2.5)


@pytest.mark.slow
@pytest.mark.timeout(900)  # sixteen scenarios in parallel on two cores
def test_every_write_path_killed_at_random_keeps_its_invariants(tmp_path, registry_file, built_site, quick_scrypt):
    # quick_scrypt: the worlds made here lock keys and hash passwords quickly; the cost is
    # not what this harness tests (test_keyring.py and test_auth.py test it).
    figures = Figures()
    scenarios = {
        "inbox import": lambda c: scenario_import(tmp_path, registry_file, figures, c),
        "inbox retention": lambda c: scenario_retention(tmp_path, registry_file, figures, c),
        "segment close": lambda c: scenario_segment_close(tmp_path, registry_file, figures, c),
        "backup": lambda c: scenario_backup(tmp_path, registry_file, figures, c),
        "office accounts": lambda c: scenario_accounts(tmp_path, registry_file, figures, c),
        "office merges via the server": lambda c: scenario_office_server(tmp_path, registry_file, built_site, figures, c),
        "triage compaction": lambda c: scenario_compaction(tmp_path, registry_file, figures, c),
        "keys seal-existing": lambda c: scenario_seal_existing(tmp_path, registry_file, figures, c),
        "restore": lambda c: scenario_restore(tmp_path, registry_file, figures, c),
        "check --repair": lambda c: scenario_repair(tmp_path, registry_file, figures, c),
        "retention by the server": lambda c: scenario_server_retention(tmp_path, registry_file, built_site, figures, c),
        "keys rotate": lambda c: scenario_rotate(tmp_path, registry_file, figures, c),
        "keys grant": lambda c: scenario_grant(tmp_path, registry_file, figures, c),
        "office set-password": lambda c: scenario_set_password(tmp_path, registry_file, figures, c),
        "office add-user": lambda c: scenario_add_user(tmp_path, registry_file, figures, c),
        "office disable-user": lambda c: scenario_disable_user(tmp_path, registry_file, figures, c),
    }
    started = time.monotonic()

    def timed(name: str, seed: int) -> None:
        began = time.monotonic()
        scenarios[name](random.Random(seed))
        figures.add(name, seconds=round(time.monotonic() - began))

    with ThreadPoolExecutor(len(scenarios)) as pool:
        for future in [pool.submit(timed, name, seed) for seed, name in enumerate(scenarios)]:
            future.result()
    print(f"\ncrash consistency ({time.monotonic() - started:.0f} s in all, scenarios in parallel):")
    for scenario, row in figures.rows.items():
        print(f"  {scenario:<30} {row['kills']:>3} kills, {row['records']:>6} records, {row['violations']} violations "
              f"({row['seconds']} s)" + (f", {row['rolled_forward']} inside a commit, finished by the next reader"
                                          if "rolled_forward" in row else ""))
        for problem in figures.notes.get(scenario, []):
            print(f"      {problem}")
    assert {s: r["violations"] for s, r in figures.rows.items()} == {s: 0 for s in scenarios}
    assert all(r["kills"] >= KILLS for r in figures.rows.values()), figures.rows
    # A scenario that wrote nothing would prove nothing: each must have done its work.
    assert all(r["records"] > 0 for r in figures.rows.values()), figures.rows
