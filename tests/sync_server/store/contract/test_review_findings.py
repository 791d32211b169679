"""An outside review of issue 19: promises of `store/interfaces.py` the embedded engine
does not keep. Each test here FAILS ON PURPOSE until the engine (or the promise) changes.

`interfaces.Store`: "opened read-only (`writer=False`) it takes no lock and refuses
writes with `StoreLocked`". The inbox of a read-only store refuses; its triage log does
not: a reader beside the running server appends to the log the server writes.
"""

from __future__ import annotations

import pytest

from sync_server.store import StoreLocked
from sync_server.triage import new_entry


def _entry(status: str = "accepted") -> dict:
    return {**new_entry("2026-12-01T08:00:00+00:00"), "status": status}


def test_a_reader_refuses_to_write_the_triage_log(place):
    with place.open() as writer:
        writer.triage.put("a", _entry())
        with place.open(writer=False) as reader:
            with pytest.raises(StoreLocked):
                reader.triage.put("b", _entry("closed"))
            with pytest.raises(StoreLocked):
                reader.triage.put_many({"a": _entry("closed")})
        # Whatever the reader tried, the writer's log holds only the writer's entries.
        assert {k: v["status"] for k, v in writer.triage.all().items()} == {"a": "accepted"}
