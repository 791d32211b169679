"""The department copies' log under SIGKILL (a scenario of the crash harness,
`test_crash_consistency.py`, in its own file): a writer puts copies as 交办 and 改派 do,
two records a write, compacting often, and is killed at random, 30 times at least.

After every kill: the log reads (a torn last line at most, never reported as damage),
every record holds exactly the copies of the last acknowledged write, or of the one in
flight, whole (never the new department's copy beside the old one's: no half 改派), and
whatever is stored is an envelope (`check_copy`)."""

from __future__ import annotations

import random
import sys

import pytest

from sync_server.store.embedded.copybook import CopyBook, check_copy
from tests.sync_server.store.embedded.test_crash_consistency import KILLS, Figures, _killed_after

WRITER = r"""
import sys
from sync_server.store.embedded import copybook
copybook.COMPACT_SLACK = 15  # compaction (an atomic rewrite) is killed too
from tests.sync_server.store.embedded.test_crash_copies import write_of
book = copybook.CopyBook(sys.argv[1])
start = int(sys.argv[2])
open(sys.argv[4], "w").close()  # the sign: writes begin now
with open(sys.argv[3], "a") as acks:
    for n in range(start, start + 100000):
        book.put_many(write_of(n))
        acks.write(f"{n}\n")
        acks.flush()
"""

RECORDS = 12
SHAPES = [["police"], ["market", "hrss"], [], ["urban"], ["police", "hrss"]]


def _copy(department: str, n: int) -> dict:
    return {"v": 1, "suite": "P256-SHA256-AES256GCM", "kid": f"{n:016x}", "department": department,
            "text": f"c2VhbGVk{n}"}


def write_of(n: int) -> dict:
    """The n-th write: two records, each given a whole set of departments."""
    return {f"r{(n + k * 5) % RECORDS}": {d: _copy(d, n) for d in SHAPES[(n + k) % len(SHAPES)]} for k in (0, 1)}


def _applied(model: dict, n: int) -> dict:
    after = dict(model)
    for sid, copies in write_of(n).items():
        if copies:
            after[sid] = copies
        else:
            after.pop(sid, None)
    return after


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_copies_log_killed_at_random_keeps_every_acknowledged_write_whole(tmp_path):
    figures, chaos, scenario = Figures(), random.Random(21), "department copies"
    data, acks = tmp_path / "data", tmp_path / "acks"
    model: dict = {}
    n = 0
    while figures.more(scenario):
        sign = tmp_path / f"sign{n}"
        killed = _killed_after([sys.executable, "-c", WRITER, str(data), str(n), str(acks), str(sign)], sign, chaos)
        done = [int(line) for line in acks.read_text().split()] if acks.exists() else []
        new = [m for m in done if m >= n]  # this run's acknowledged writes
        for m in new:
            model = _applied(model, m)
        last = max(new, default=n - 1)
        book = CopyBook(data, writer=False)
        stored = {sid: book.copies(sid) for sid in book.ids()}
        bad = len(book.problems)
        bad += sum(check_copy(d, c) != c for copies in stored.values() for d, c in copies.items())
        in_flight = _applied(model, last + 1)
        if stored == in_flight:
            model = in_flight
        elif stored != model:
            bad += 1
            figures.note(scenario, [f"after write {last}: {stored} is neither {model} nor {in_flight}"])
        n = last + 2
        figures.add(scenario, kills=int(killed), records=len(stored), violations=bad)
    row = figures.rows[scenario]
    print(f"\n{scenario}: {row['kills']} kills, {n} writes, {row['violations']} violations")
    assert row["violations"] == 0, figures.notes
    assert row["kills"] >= KILLS and n > KILLS
