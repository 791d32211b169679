"""Shared helpers: medians over repeated runs, a table printer, paths."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from minqing.registry import DEFAULT_REGISTRY

REPO = Path(__file__).resolve().parent.parent
MKDOCS_YML = REPO / "mkdocs.yml"
SAMPLE_REGISTRY = REPO / DEFAULT_REGISTRY
RESULTS = REPO / "build" / "bench" / "results.json"
SMOKE_RESULTS = REPO / "build" / "bench" / "smoke.json"  # never the whole run's file


def median_seconds(run: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load: printed beside every figure, since a shared
    2-core machine can inflate a time several times over."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
