"""The crash harness's scenario for the letters (`test_crash_consistency.py` holds the
harness; this one runs alone, so it costs the suite one process, not a slot among the
sixteen there): a writer issuing 工作建议函 and 督办单, recording answers, withdrawing
some and compacting now and then, SIGKILLed at random 30 times.

After each kill: no number is given twice or skipped (each kind's numbers are 1..N, each
held by the letter first acknowledged with it), every letter is whole (its digest
matches its matters), and every letter the writer acknowledged is there."""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import pytest

from sync_server.store.embedded.letterbook import LetterBook
from tests.sync_server.store.embedded.test_crash_consistency import KILLS, _killed_run

WRITER = """
import hashlib, os, sys
from sync_server.store.embedded.letterbook import LetterBook
data, acks, run = sys.argv[1], sys.argv[2], sys.argv[3]
book = LetterBook(data)
ack = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
i = 0
while True:
    i += 1
    kind = "supervision" if i % 3 == 0 else "letter"
    matters = [f"{run}-{i}-{m}" for m in range(40)]
    digest = hashlib.sha256("|".join(matters).encode()).hexdigest()
    letter = book.issue(kind, 2026, {"matters": matters, "digest": digest, "nonce": f"{run}-{i}"}, lambda n: f"N{n}")
    # Acknowledged: written whole and fsynced before the next write starts.
    os.write(ack, f"{letter['id']} {run}-{i}\\n".encode())
    os.fsync(ack)
    if i % 4 == 0:
        book.update(letter["id"], {"answer": {"text": "已办理" * 50, "on": "2026-12-08"}})
    if i % 5 == 0:
        book.update(letter["id"], {"voided": True})
    if i % 9 == 0:
        book.compact()
"""


def _violations(data: Path, acks: Path, first_seen: dict[str, str]) -> int:
    letters = LetterBook(data, writer=False).all()
    bad = 0
    for kind in ("letter", "supervision"):
        numbers = sorted(letter["n"] for letter in letters if letter["kind"] == kind)
        bad += int(numbers != list(range(1, len(numbers) + 1)))  # none twice, none skipped
    for letter in letters:
        matters = letter["matters"]
        bad += int(hashlib.sha256("|".join(matters).encode()).hexdigest() != letter["digest"] or len(matters) != 40)
        # A number is held by the letter it was first given to, for good.
        bad += int(first_seen.setdefault(letter["id"], letter["nonce"]) != letter["nonce"])
    stored = {letter["id"]: letter["nonce"] for letter in letters}
    raw = acks.read_bytes() if acks.exists() else b""
    for line in raw[: raw.rfind(b"\n") + 1].decode().splitlines():
        letter_id, nonce = line.split()
        bad += int(stored.get(letter_id) != nonce)
    return bad


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_issuing_letters_killed_at_random_never_reuses_or_skips_a_number(tmp_path):
    data, acks = tmp_path / "data", tmp_path / "acks"
    chaos, first_seen = random.Random(21), {}
    kills = violations = 0
    run = 0
    while kills < KILLS and run < KILLS * 4:
        run += 1
        killed = _killed_run([sys.executable, "-c", WRITER, str(data), str(acks), str(run)], chaos, 1.0)
        kills += int(killed)
        violations += _violations(data, acks, first_seen)
    letters = LetterBook(data, writer=False).all()
    print(f"\nletters: {kills} kills, {len(letters)} letters, {violations} violations")
    assert (kills, violations) == (KILLS, 0)
    assert len(letters) > KILLS  # the writer got on between the kills: they proved something
