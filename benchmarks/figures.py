"""The monthly 考核 figures at 100,000 records (the office's generated data: 30% triaged,
dispatched to the registry's 12 departments, see `office_data`): the read side's report
rows for this month and the last, both months' figures by department and town, and
their tables, as the monthly report and /office/ratings build them, in process and
cold (no report cache). The smoke measures 1,000 records once, under the 100k name.

Generated data that holds no dispatched matter (an `office_data` from before
departments) is dispatched here through the real rules (`triage.apply`), so that the
figures always read histories as the office writes them: 交办, some 退回 and 改派, 签收,
a progress note, some 延期, 提交办结 and 审核办结, some 回访."""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY, median_seconds
from benchmarks.office_data import generate
from minqing.registry import load_registry
from sync_server.office.department_figures import Period, period_figures
from sync_server.office.department_tables import monthly_tables
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.records import CHINA
from sync_server.store import open_store
from sync_server.store.accounts import Account
from sync_server.store.embedded.triageentry import freeze
from sync_server.triage import apply, new_entry

METRICS = ("department_figures_100k",)
REPEAT = 5


def measure(count: int, repeat: int) -> float:
    """Median milliseconds of one month's figures, with the month before, over `count` records."""
    registry = load_registry(SAMPLE_REGISTRY)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        generate(data, count, accounts=())
        with open_store(data, writer=False) as store:
            records, entries = list(store.submissions.records()), store.triage.all()
    if not any(entry.get("department") for entry in entries.values()):
        entries = _dispatched(records, registry, len(entries) / max(1, len(records)))
    readside = MemoryReadSide(records, entries)
    readside.wait_ready()
    now = datetime.now(CHINA)
    today = now.date()
    period = Period.month(today.year, today.month, today)

    def once():
        current, previous = period_figures(readside, registry, period, today, now)
        monthly_tables(current, previous, registry)

    return 1000 * median_seconds(once, repeat)


class _Now(Exception):
    """The next step would be in the future: the matter stops where it is."""


class _Story:
    """One matter's steps, each a few hours to three days after the one before."""

    def __init__(self, received_at: str, registry, rng: random.Random, now: datetime) -> None:
        self.at, self.registry, self.rng, self.now = datetime.fromisoformat(received_at), registry, rng, now

    def act(self, entry: dict, action: str, unit: str = "", **fields) -> dict:
        self.at += timedelta(hours=self.rng.randint(1, 72))
        if self.at > self.now:
            raise _Now
        account = Account(unit, "department", unit, (), unit, False) if unit else STAFF
        return apply(entry, action, fields, account.name, self.at, account=account, registry=self.registry)


STAFF = Account("amy", "staff", "王干事", (), "", False)


def _dispatched(records: list[dict], registry, share: float, seed: int = 5) -> dict:
    """`share` of the records taken through the dispatch rules."""
    rng = random.Random(seed)
    departments = [d.id for d in registry.departments]
    now = datetime.now(timezone.utc)
    entries = {}
    for record in records:
        if rng.random() >= share:
            continue
        story = _Story(record["received_at"], registry, rng, now)
        entry = new_entry(record["received_at"])
        try:
            entry = story.act(entry, "accept")
            lead = rng.choice(departments)
            entry = story.act(entry, "assign", department=lead, track=rng.choice(["immediate", "long_term"]))
            if rng.random() < 0.05:
                entry = story.act(entry, "send_back", lead, reason="不属于本单位职责")
                lead = rng.choice(departments)
                entry = story.act(entry, "assign", department=lead, track="immediate")
            if rng.random() < 0.05:
                lead = rng.choice([d for d in departments if d != lead])
                entry = story.act(entry, "reassign", department=lead, note="改派")
            if rng.random() < 0.85:
                entry = story.act(entry, "sign", lead)
                entry = story.act(entry, "progress", lead, note="正在办理")
                if rng.random() < 0.1:
                    later = (datetime.fromisoformat(entry["deadline"]) + timedelta(days=10)).date().isoformat()
                    entry = story.act(entry, "ask_extension", lead, deadline=later, reason="需要联合执法")
                    entry = story.act(entry, "grant_extension")
                if rng.random() < 0.7:
                    entry = story.act(entry, "submit", lead, outcome="resolved", result="已整治", public_reply="已整治。")
                    entry = story.act(entry, "approve", public_reply="已整治。")
                    if rng.random() < 0.5:
                        entry = story.act(entry, "follow_up", satisfaction=rng.choice(["satisfied", "fair", "dissatisfied"]))
        except _Now:
            pass
        entries[record["id"]] = freeze(entry)
    return entries


def run(site_dir: Path | None = None, smoke: bool = False) -> dict[str, float]:
    figure = measure(1000, 1) if smoke else measure(100_000, REPEAT)
    print(f"  monthly figures: {figure:.0f} ms", file=sys.stderr)
    return {"department_figures_100k": figure}


if __name__ == "__main__":  # `python -m benchmarks.figures [N]`: one other size, printed only
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{size} records: {measure(size, REPEAT):.0f} ms")
