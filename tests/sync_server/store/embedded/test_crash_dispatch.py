"""The crash-consistency harness for the dispatch's writes (see `test_crash_consistency`
for the harness itself): 交办 and 改派 killed with SIGKILL at random moments, 30 times
each way; after every kill each matter is whole or untouched, never half dispatched.

- through the server, as staff take them: a matter accepted, dispatched to a department,
  then reassigned to another with its reason. Every action the server acknowledged is in
  the history after the restart, and every entry agrees with its last step.
- in the triage log itself, a writer dispatching and reassigning batches of matters in
  one write each, compacting now and then: a batch is on every matter or on none.
"""

from __future__ import annotations

import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from minqing.server_process import ServerProcess
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import damage
from tests.sync_server.store.embedded.test_crash_consistency import KILLS, PASSWORD, Figures, _fill, _killed_run, _login

SERVER = "dispatch via the server"
LOG = "dispatch batches in the triage log"
# (department, then the one it is reassigned to): leads of other sectors, so visibility moves.
ROUTE = ("market", "police")


def broken_promises(entries: dict[str, dict]) -> list[str]:
    """Why each dispatched entry is not whole: a step without its fields, fields without
    their step, a reassign that does not say where the matter came from."""
    problems = []
    for sid, entry in entries.items():
        why = damage(entry)
        history = entry.get("history") or []
        if why is not None:
            problems.append(f"{sid}: {why}")
            continue
        if history and history[-1]["to"] != entry["status"]:
            problems.append(f"{sid}: its status is not its last step's")
        dispatches = [h for h in history if h["action"] in ("assign", "reassign")]
        if entry["status"] == "assigned":
            last = dispatches[-1] if dispatches else {}
            if not (entry["department"] and last.get("department") == entry["department"]
                    and entry["dispatched_at"] == last.get("at") and entry["sign_due"] and entry["lead"]):
                problems.append(f"{sid}: dispatched without its department, time or step")
        for before, after in zip(dispatches, dispatches[1:], strict=False):
            if after["action"] == "reassign" and after.get("from_department") != before.get("department"):
                problems.append(f"{sid}: a reassign that does not say where the matter came from")
        if any(h["action"] in ("assign", "reassign") and not h.get("by_display") for h in history):
            problems.append(f"{sid}: a step without its actor's name")
    return problems


def _act(client: httpx.Client, sid: str, action: str, **fields) -> bool:
    page = client.get("/office/records")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    # 交办 and 改派 ask again: the confirming page posts confirm=yes.
    reply = client.post(f"/office/records/{sid}/action", data={"csrf": token, "action": action, "confirm": "yes",
                                                                 **fields}, follow_redirects=False)
    return reply.status_code == 303 and "error" not in reply.headers.get("location", "")


STEPS = (("accept", {}), ("assign", {"department": ROUTE[0], "track": "immediate"}),
         ("reassign", {"department": ROUTE[1], "note": "属治安案件"}))


def scenario_server(root: Path, registry: Path, site: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "server"
    items = _fill(data, registry, 100)
    Accounts(data).add("amy", PASSWORD, "staff", "王干事")
    done: dict[str, int] = {i["id"]: 0 for i in items}  # steps the server acknowledged, per record
    server = ServerProcess(data, site, registry)
    for _ in range(KILLS):  # every round ends in a kill
        server.start(timeout=90)
        stop, ready = threading.Event(), threading.Event()

        def work(port=server.port, stop=stop, ready=ready) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                try:
                    _login(client)
                    ready.set()
                    for sid in done:
                        while done[sid] < len(STEPS) and not stop.is_set():
                            action, fields = STEPS[done[sid]]
                            history = (TriageBook(data).entry(sid) or {}).get("history") or []
                            if len(history) > done[sid]:  # stored, but the kill took the answer
                                done[sid] = len(history)
                                continue
                            if _act(client, sid, action, **fields):
                                done[sid] += 1
                except (httpx.HTTPError, AttributeError):
                    pass  # the server was killed under us
                finally:
                    ready.set()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        ready.wait(timeout=10)
        time.sleep(chaos.uniform(0.0, 0.5))  # the kill lands among the dispatches
        server.kill()
        stop.set()
        worker.join(timeout=10)
        entries = TriageBook(data).all()
        problems = broken_promises(entries)
        problems += [f"{sid}: {n} steps acknowledged, {len(entries.get(sid, {}).get('history', []))} stored"
                     for sid, n in done.items() if len((entries.get(sid) or {}).get("history") or []) < n]
        figures.note(SERVER, problems)
        figures.add(SERVER, kills=1, violations=len(problems))
    figures.add(SERVER, records=sum(n == len(STEPS) for n in done.values()))


WRITER = """
import sys
from datetime import datetime, timezone
from minqing.registry import load_registry
from sync_server.store.embedded.triagebook import TriageBook
from sync_server.triage import apply, new_entry

book, registry = TriageBook(sys.argv[1]), load_registry(sys.argv[2])
departments = [d.id for d in registry.departments]
n = 0
while True:
    n += 1
    now = datetime.now(timezone.utc)
    entries = book.all()
    batch = {}
    for m in range(n % 5, 40, 5):  # eight matters in one write
        sid = f"m{m}"
        entry = entries.get(sid) or apply(new_entry("2026-11-25T00:00:00+00:00"), "accept", {}, "amy", now)
        if entry["status"] == "accepted":
            entry = apply(entry, "assign", {"department": departments[n % 12], "track": "immediate"}, "amy", now,
                          registry=registry)
        else:
            moved = departments[(departments.index(entry["department"]) + 1) % 12]
            entry = apply(entry, "reassign", {"department": moved, "note": f"batch {n}"}, "amy", now,
                          registry=registry)
        batch[sid] = {**entry, "batch": n}
    book.put_many(batch)
    if n % 9 == 0:
        book.compact()
"""


def scenario_log(root: Path, registry: Path, figures: Figures, chaos: random.Random) -> None:
    data = root / "log"
    while figures.more(LOG):
        killed = _killed_run([sys.executable, "-c", WRITER, str(data), str(registry)], chaos, 0.8)
        entries = TriageBook(data).all()
        problems = broken_promises(entries)
        # One write holds eight matters: they carry the same batch number, or the write is absent.
        for group in range(5):
            batches = {entries[f"m{m}"].get("batch") for m in range(group, 40, 5) if f"m{m}" in entries}
            if len(batches) > 1:
                problems.append(f"group {group}: matters of one write from batches {sorted(batches)}")
        figures.note(LOG, problems)
        figures.add(LOG, kills=int(killed), records=0, violations=len(problems))
    figures.add(LOG, records=len(TriageBook(data).all()))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_dispatch_writes_killed_at_random_are_whole_or_absent(tmp_path, registry_file, built_site, quick_scrypt):
    figures = Figures()
    scenarios = {SERVER: lambda c: scenario_server(tmp_path, registry_file, built_site, figures, c),
                 LOG: lambda c: scenario_log(tmp_path, registry_file, figures, c)}
    with ThreadPoolExecutor(len(scenarios)) as pool:
        for future in [pool.submit(scenarios[name], random.Random(seed)) for seed, name in enumerate(scenarios)]:
            future.result()
    print("\ncrash consistency of the dispatch:")
    for scenario, row in figures.rows.items():
        print(f"  {scenario:<36} {row['kills']:>3} kills, {row['records']:>4} records, {row['violations']} violations")
        for problem in figures.notes.get(scenario, []):
            print(f"      {problem}")
    assert {s: r["violations"] for s, r in figures.rows.items()} == {s: 0 for s in scenarios}
    assert all(r["kills"] >= KILLS for r in figures.rows.values()), figures.rows
    assert all(r["records"] > 0 for r in figures.rows.values()), figures.rows
