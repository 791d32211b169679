"""`minqing check [--repair]`: what is wrong in a data folder, and what can be saved.

Read-only by default. `--repair` (with the server stopped: it takes the writer lock)
moves damaged segments to the quarantine, puts back the records of damaged or
truncated segments that can still be read (every record that parses, wherever it sits;
records already in the inbox are skipped, so a second repair adds nothing), sealed when
keys exist (`seal`), and compacts a triage log or a letters log with unreadable lines. The
quarantined files stay: the evidence of the damage (see `quarantine`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sync_server.store.embedded import leftovers, quarantine, tinystore
from sync_server.store.embedded.backup import MANIFEST, MARKER, BackupIncomplete, verify
from sync_server.store.embedded.inbox import Inbox
from sync_server.store.embedded.letterbook import LOG_NAME as LETTERS_LOG
from sync_server.store.embedded.letterbook import LetterBook
from sync_server.store.embedded.secretfiles import journal_problem
from sync_server.store.embedded.triagebook import LOG_NAME, TriageBook
from sync_server.store.installation import KEY_BYTES, KEY_NAME

__all__ = ["Findings", "check"]


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def _unreadable(found: quarantine.Quarantined) -> str:
    whole = found.damage.get("sealed_records") or []
    if whole:
        return (f"; {len(whole)} records sealed whole to the recovery key (no sector could take them: "
                f"{', '.join(map(str, whole))})" + _bytes(found))
    return _bytes(found)


def _bytes(found: quarantine.Quarantined) -> str:
    unreadable = found.damage.get("unreadable") or {}
    if found.unreadable and not found.kept:
        return f"; {len(found.unreadable)} bytes could not be read (kept as they are)"
    if "plain" in unreadable or "sealed" in unreadable:
        how = "sealed to the recovery key" if "sealed" in unreadable else "kept in clear"
        return f"; {sum(n for _, n in found.damage['ranges'])} bytes could not be read ({how})"
    if "dropped_at" in unreadable:
        return f"; its unreadable bytes were dropped at the retention limit on {unreadable['dropped_at'][:10]}"
    return ""


def check(data_dir: Path, repair: bool = False, seal: Callable[[dict], dict | None] | None = None) -> Findings:
    """`seal(record)`, given when keys exist, seals each record `--repair` puts back (None:
    already sealed); a record it cannot take is left in the quarantine, not put back plain."""
    data_dir = Path(data_dir)
    found = Findings()
    if (data_dir / MARKER).exists() or (data_dir / MANIFEST).exists():
        try:
            verify(data_dir)
            found.notes.append("this folder is a complete backup (its manifest matches)")
        except BackupIncomplete as exc:
            found.problems.append(str(exc))
            return found
    key = data_dir / KEY_NAME
    if key.exists() and len(key.read_bytes()) < KEY_BYTES:
        found.problems.append(f"{KEY_NAME} is damaged (shorter than {KEY_BYTES} bytes): restore it from a backup")

    found.problems += [leftovers.describe(data_dir, path) for path in leftovers.find(data_dir)]
    if journal := journal_problem(data_dir):
        found.problems.append(journal)
    # The inbox: opened as a reader first, so a plain check changes nothing.
    with Inbox(data_dir, writer=False) as inbox:
        known = set(inbox._index)
        found.notes.append(f"{len(inbox)} records readable in the inbox")
        found.notes += [f"warning: {w}" for w in inbox.warnings]
        found.problems += inbox.problems
        in_place = list(inbox.damaged)
    salvage: dict[str, dict] = {}
    for path in in_place + quarantine.paths(data_dir):
        kept = quarantine.read(path)
        new = [d for d in kept.records if d["id"] not in known and d["id"] not in salvage]
        salvage.update({d["id"]: d for d in new})
        where = path.relative_to(data_dir)
        if path.parent.name == "inbox" and path.parent.parent == data_dir / "quarantine":
            found.notes.append(f"{where} (quarantined): {len(kept.records)} records readable, {len(new)} not yet back "
                               f"in the inbox{_unreadable(kept)}")
        else:
            found.notes.append(f"{where}: {len(kept.records)} records can be saved")

    book = TriageBook(data_dir)
    found.problems += book.problems
    log = data_dir / "office" / LOG_NAME
    torn = log.exists() and log.stat().st_size and not log.read_bytes().endswith(b"\n")
    if torn:
        found.notes.append(f"office/{LOG_NAME} ends with a torn line (a write a crash interrupted): ignored")
    found.notes.append(f"{len(book)} triage entries readable")
    letters = LetterBook(data_dir, writer=False)
    found.notes.append(f"{len(letters)} letters readable")  # read first: its problems are found reading
    found.problems += letters.problems
    users = tinystore.KeyedFile(data_dir / "office" / "users.json", data_dir)
    if users.problem:
        found.problems.append(users.problem)

    if repair:
        with Inbox(data_dir) as inbox:  # the writer moves damaged segments to the quarantine
            if inbox.leftovers_removed:
                found.repaired.append(f"removed {len(inbox.leftovers_removed)} temporary files killed writes left")
            ordered = sorted(salvage.values(), key=lambda d: str(d.get("received_at", "")))
            fresh = [d for d in ordered if d["id"] not in inbox]
            if seal is not None:
                fresh = _sealed(fresh, seal, found)
            inbox.add(fresh)
            if fresh:
                found.repaired.append(f"put {len(fresh)} saved records back into the inbox")
            if book.problems or torn:
                book.compact()
                found.repaired.append(f"rewrote office/{LOG_NAME} without its unreadable lines")
            if letters.problems:
                LetterBook(data_dir).compact()  # a copy of the damaged log goes to the quarantine first
                found.repaired.append(f"rewrote office/{LETTERS_LOG} without its unreadable lines")
    return found


def _sealed(records: list[dict], seal: Callable[[dict], dict | None], found: Findings) -> list[dict]:
    """Records to put back, each sealed (or left plain only where its sector has no key);
    one sealing cannot take (an unknown station: `seal` raises) stays in the quarantine,
    which `keys seal-existing` seals to the recovery key."""
    out = []
    for record in records:
        try:
            out.append(seal(record) or record)
        except (KeyError, TypeError, ValueError, AttributeError):
            found.notes.append(f"record {record['id']} lacks what sealing needs: left in the quarantine")
    return out
