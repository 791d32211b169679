"""The monthly 考核 figures at 100,000 records (the office's generated data: 30% triaged,
dispatched to the registry's departments, see `office_data`): the read side's report
rows for this month and the last, both months' figures by department and town, and
their tables, as the monthly report and /office/ratings build them, in process and
cold (no report cache). The smoke measures 1,000 records once, under the 100k name."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

from benchmarks.common import SAMPLE_REGISTRY, median_seconds
from benchmarks.office_data import generate
from minqing.registry import load_registry
from sync_server.office.department_figures import Period, period_figures
from sync_server.office.department_tables import monthly_tables
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.records import CHINA
from sync_server.store import open_store

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
    readside = MemoryReadSide(records, entries)
    readside.wait_ready()
    now = datetime.now(CHINA)
    today = now.date()
    period = Period.month(today.year, today.month, today)

    def once():
        current, previous = period_figures(readside, registry, period, today, now)
        monthly_tables(current, previous, registry)

    return 1000 * median_seconds(once, repeat)


def run(site_dir: Path | None = None, smoke: bool = False) -> dict[str, float]:
    figure = measure(1000, 1) if smoke else measure(100_000, REPEAT)
    print(f"  monthly figures: {figure:.0f} ms", file=sys.stderr)
    return {"department_figures_100k": figure}


if __name__ == "__main__":  # `python -m benchmarks.figures [N]`: one other size, printed only
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{size} records: {measure(size, REPEAT):.0f} ms")
