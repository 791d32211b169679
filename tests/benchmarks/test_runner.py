"""The benchmark runner: one broken step is recorded by name and fails the run without
hiding the other steps' figures; a figure that is missing, extra or not a finite
positive number fails its step."""

from __future__ import annotations

import json
import types

import pytest

from benchmarks import run
from benchmarks.targets import TARGETS, figure


def test_the_targets_and_the_steps_name_the_same_figures():
    listed = [m for module in run.STEPS.values() for m in module.METRICS]
    assert len(listed) == len(set(listed)), "a figure listed by two steps"
    assert set(listed) == set(TARGETS)


@pytest.mark.parametrize("found, problem", [
    ({"a_ms": 1.0}, "no figure b_ms"),
    ({"a_ms": 1.0, "b_ms": 2.0, "c_ms": 3.0}, "c_ms is not one of its METRICS"),
    ({"a_ms": 1.0, "b_ms": float("nan")}, "b_ms is nan, not a finite positive number"),
    ({"a_ms": 1.0, "b_ms": float("inf")}, "b_ms is inf, not a finite positive number"),
    ({"a_ms": 1.0, "b_ms": 0.0}, "b_ms is 0.0, not a finite positive number"),
    ({"a_ms": 1.0, "b_ms": True}, "b_ms is True, not a finite positive number"),
    ({"a_ms": 1.0, "b_ms": "3 ms"}, "b_ms is '3 ms', not a finite positive number"),
])
def test_a_step_must_report_each_of_its_figures_as_a_finite_positive_number(found, problem):
    assert problem in run.figure_problems(("a_ms", "b_ms"), found)
    assert run.figure_problems(("a_ms", "b_ms"), {"a_ms": 1, "b_ms": 0.5}) == []


def _step(metrics, result=None, error=None):
    def measure(site, smoke=False):
        if error:
            raise error
        return result
    return types.SimpleNamespace(METRICS=metrics, run=measure)


def test_a_failing_step_is_named_and_the_others_still_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(run, "STEPS", {
        "good": _step(("good_ms",), {"good_ms": 2.5}),
        "broken": _step(("broken_ms",), error=TypeError("Failed to fetch dynamically imported module")),
        "empty": _step(("empty_ms",), {"empty_ms": float("nan")}),
        "after": _step(("after_s",), {"after_s": 1.0}),
        "odd": _step(("odd_s",), [1.0]),
    })
    results_file = tmp_path / "smoke.json"
    assert run.main(["--smoke", "--results", str(results_file)]) == 1
    results = json.loads(results_file.read_text("utf-8"))
    assert results["figures"] == {"good_ms": 2.5, "after_s": 1.0}
    steps = results["steps"]
    assert [name for name, step in steps.items() if step["ok"]] == ["good", "after"]
    assert steps["broken"]["error"] == "TypeError: Failed to fetch dynamically imported module"
    assert steps["broken"]["where"].startswith("tests/benchmarks/test_runner.py:")
    assert steps["empty"]["error"] == "empty_ms is nan, not a finite positive number"
    assert steps["odd"]["error"] == "returned list, not a dict of figures"
    assert "benchmark steps FAILED: broken" in capsys.readouterr().err
    assert results["run"]["smoke"] is True and len(results["run"]["commit"]) == 40
    assert {"date", "dirty", "wall_s", "load_before", "load_after"} <= set(results["run"])


def test_the_smoke_never_writes_the_whole_runs_file(monkeypatch, tmp_path):
    assert run.SMOKE_RESULTS != run.RESULTS
    monkeypatch.setattr(run, "STEPS", {"good": _step(("good_ms",), {"good_ms": 2.5})})
    monkeypatch.setattr(run, "SMOKE_RESULTS", tmp_path / "smoke.json")
    monkeypatch.setattr(run, "RESULTS", tmp_path / "results.json")
    assert run.main(["--smoke"]) == 0
    assert (tmp_path / "smoke.json").exists() and not (tmp_path / "results.json").exists()
    with pytest.raises(SystemExit):
        run.main(["--smoke", "--update-docs"])


@pytest.mark.parametrize("value, unit, text", [
    (0.507, "s", "0.51 s"), (41.88, "KB", "41.9 KB"), (692.4, "ms", "692 ms"), (1482.8, "ms", "1,483 ms"),
    (9515.6, "/s", "9,516/s"), (1000.0, "", "1,000"),
])
def test_figures_read_as_the_docs_quote_them(value, unit, text):
    assert figure(value, unit) == text
