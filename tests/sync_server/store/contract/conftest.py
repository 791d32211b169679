"""The storage contract's world: one fresh store per test, for every engine.

A `Place` is where one store lives (a data folder today; a database tomorrow). The
contract tests open it as the writer, as a reader beside the writer, in another
process, and for its accounts alone, and know nothing else about the engine. A second
engine joins by adding its `Place` to `PLACES`; every test then runs against it too.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sync_server.store import Accounts, Store, open_accounts, open_store
from sync_server.store.arrival import arrival_minute


class DataFolderPlace:
    """The embedded engine: a data folder."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "data"

    def open(self, **options) -> Store:
        return open_store(self.data_dir, **options)

    def accounts(self) -> Accounts:
        return open_accounts(self.data_dir)

    def in_another_process(self, code: str) -> subprocess.CompletedProcess:
        """Run `code` in a new interpreter with `place` bound to this place there."""
        prelude = f"from tests.sync_server.store.contract.conftest import DataFolderPlace as _P\n" \
                  f"from pathlib import Path\nplace = _P.__new__(_P)\nplace.data_dir = Path({str(self.data_dir)!r})\n"
        return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=60, cwd=Path(__file__).resolve().parents[4])


PLACES = {"embedded": DataFolderPlace}


@pytest.fixture(params=sorted(PLACES))
def place(request, tmp_path):
    return PLACES[request.param](tmp_path)


_numbers = itertools.count(1)


def stored_record(**fields) -> dict:
    """A record as the intake hands it to the store: its id, receipt and digests made."""
    n = next(_numbers)
    record = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "receipt": f"R{n:04d}-TEST",
        "station_id": "hebin-primary",
        "created_at": "2026-12-01T08:00:00+08:00",
        "received_at": arrival_minute(datetime.now(timezone.utc)),
        "rating": "fair",
        "feeling": f"第{n}条意见",
        "suggestion": "",
        "phone": None,
        "consent": False,
        "fingerprint": f"content-{n}",
        "phone_fingerprint": None,
        "flags": [],
    }
    record.update(fields)
    return record


def read_while_writing(place, look: Callable[[Store], object], write: Callable[[], None]) -> list:
    """What `look(reader)` saw, again and again, from read-only opens in another thread
    while `write()` ran in this one: a concurrent reader's view of the writes."""
    stop, seen = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            with place.open(writer=False) as reader:
                seen.append(look(reader))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        write()
    finally:
        stop.set()
        thread.join()
    return seen
