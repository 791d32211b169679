"""`python -m benchmarks --smoke` inside `make test`: every benchmark step at its smallest
size, so a step that breaks fails here, by name, and not at the next whole `make bench`
(the sync step's offline import broke for a round and nothing noticed)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys

import pytest

from benchmarks.run import STEPS
from tests.conftest import REPO

# 45-57 s on the 2 cores at load 6 to 12 (measured 2026-12-07); the margin is for a busier machine.
SMOKE_TIMEOUT_S = 300


def _run_smoke(site, results_file, log) -> int:
    command = [sys.executable, "-m", "benchmarks", "--smoke", "--site-dir", str(site), "--results", str(results_file)]
    with open(log, "w") as out:
        # Its own process group: a hung step's servers and browser go with it.
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout=SMOKE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            started = [line.strip() for line in log.read_text("utf-8").splitlines() if "running" in line]
            pytest.fail(f"the benchmark smoke did not finish in {SMOKE_TIMEOUT_S} s; the step it was in: "
                        f"{started[-1] if started else 'none started'}")


@pytest.mark.e2e
@pytest.mark.timeout(SMOKE_TIMEOUT_S + 60)
def test_every_benchmark_step_runs_at_its_smallest_size_and_reports_its_figures(built_site, tmp_path):
    results_file, log = tmp_path / "smoke.json", tmp_path / "smoke.log"
    returncode = _run_smoke(built_site, results_file, log)
    output = log.read_text("utf-8")
    assert results_file.exists(), f"the smoke wrote no results (exit {returncode}):\n{output[-4000:]}"
    results = json.loads(results_file.read_text("utf-8"))
    failed = {name: step for name, step in results["steps"].items() if not step["ok"]}
    if failed:
        pytest.fail("benchmark steps failed in the smoke:\n" + "\n".join(
            f"  {name} ({step.get('where') or 'no benchmarks line'}): {step['error']}" for name, step in failed.items()),
            pytrace=False)
    assert list(results["steps"]) == list(STEPS)
    # The runner checks each step's figures; checked here again, apart from it.
    figures = results["figures"]
    for name, module in STEPS.items():
        missing = [m for m in module.METRICS if m not in figures]
        assert not missing, f"step {name} reported no {missing}"
        odd = {m: figures[m] for m in module.METRICS if not (isinstance(figures[m], (int, float)) and
                                                            math.isfinite(figures[m]) and figures[m] > 0)}
        assert not odd, f"step {name}: figures that are not finite positive numbers: {odd}"
    assert results["run"]["smoke"] is True and results["run"]["commit"]
    assert returncode == 0, output[-4000:]
