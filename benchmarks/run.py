"""`make bench` and `python -m benchmarks --smoke`: every step in turn, one results file.

A whole run measures each step at its full size and writes build/bench/results.json; the
smoke runs every step at its smallest size in seconds (see each step's docstring) and
writes build/bench/smoke.json, marked `"smoke": true`, so it never replaces a whole
run's figures. Both record when and from which commit they ran.

A step that raises does not stop the others: it is recorded with its error, and the run
exits non-zero naming it. A step must return exactly the figures its module lists in
`METRICS`, each a finite positive number; anything else fails the step too (a zero
means it measured nothing). Targets are printed beside a whole run's figures and never
fail it: on a shared machine they say more about the load than the code.

The file:

    {"run": {"smoke", "date", "commit", "dirty", "wall_s", "load_before", "load_after",
             "machine", "cores", "python", "chromium"},
     "steps": {step: {"ok", "seconds", "error"?, "where"?}},
     "figures": {metric: number}}
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import build, docs, edge, figures, ingest, office, page, public, sealing, store, sync
from benchmarks.common import REPO, RESULTS, SMOKE_RESULTS
from benchmarks.targets import table
from minqing.browser import CHROMIUM

# In the order they run: the cheap, browser-free steps first.
STEPS = {"build": build, "store": store, "ingest": ingest, "page": page, "sync": sync,
         "sealing": sealing, "edge": edge, "office": office, "figures": figures, "public": public}


def is_figure(value: object) -> bool:
    """A finite positive number: a zero or NaN means the step measured nothing."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def figure_problems(expected: tuple[str, ...], found: object) -> list[str]:
    """What is wrong with one step's figures: missing, unexpected, or not a finite positive number."""
    if not isinstance(found, dict):
        return [f"returned {type(found).__name__}, not a dict of figures"]
    problems = [f"no figure {m}" for m in expected if m not in found]
    problems += [f"{m} is not one of its METRICS" for m in found if m not in expected]
    problems += [f"{m} is {v!r}, not a finite positive number" for m, v in found.items() if not is_figure(v)]
    return problems


def _where(error: BaseException) -> str:
    """The innermost line of the benchmarks that the error passed through."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if path.is_relative_to(REPO) and "benchmarks" in path.relative_to(REPO).parts:
            return f"{path.relative_to(REPO).as_posix()}:{frame.lineno} in {frame.name}"
    return ""


def run_step(name: str, site: Path, smoke: bool) -> tuple[dict[str, float], dict]:
    module = STEPS[name]
    started = time.perf_counter()
    try:
        found = module.run(site, smoke=smoke)
    except Exception as error:  # one broken step must not hide the others' figures
        record = {"ok": False, "seconds": round(time.perf_counter() - started, 2),
                  "error": "".join(traceback.format_exception_only(error)).strip()[-3000:], "where": _where(error)}
        traceback.print_exc()
        return {}, record
    record: dict = {"ok": True, "seconds": round(time.perf_counter() - started, 2)}
    problems = figure_problems(module.METRICS, found)
    if problems:
        record.update(ok=False, error="; ".join(problems))
    if not isinstance(found, dict):
        return {}, record
    return {m: float(f"{v:.6g}") for m, v in found.items() if m in module.METRICS and is_figure(v)}, record


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _chromium() -> str:
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_facts(smoke: bool) -> dict:
    """When, from what and where: the date and commit the docs quote beside the figures."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "smoke": smoke,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(status),  # uncommitted changes to tracked files: the commit is not the whole story
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "chromium": _chromium(),
    }


def run_all(site: Path, smoke: bool) -> dict:
    facts = run_facts(smoke)
    started = time.perf_counter()
    steps, figures = {}, {}
    for n, name in enumerate(STEPS, 1):
        print(f"[{n}/{len(STEPS)}] running {name} benchmarks{' (smoke)' if smoke else ''}...", file=sys.stderr, flush=True)
        found, record = run_step(name, site, smoke)
        steps[name], figures = record, {**figures, **found}
        verdict = "ok" if record["ok"] else f"FAILED: {record['error']}"
        print(f"      {name}: {record['seconds']:.1f} s, {verdict}", file=sys.stderr, flush=True)
    facts.update(wall_s=round(time.perf_counter() - started, 1), load_after=[round(x, 2) for x in os.getloadavg()])
    return {"run": facts, "steps": steps, "figures": figures}


def _print(results: dict, path: Path) -> None:
    facts, smoke = results["run"], results["run"]["smoke"]
    print(f"\n{'smoke run' if smoke else 'run'} of {facts['date']}, commit {facts['commit'][:12]}"
          f"{' (uncommitted changes)' if facts['dirty'] else ''}; {facts['cores']} cores {facts['machine']}, "
          f"python {facts['python']}, {facts['chromium']}; load {facts['load_before']} before, "
          f"{facts['load_after']} after; {facts['wall_s']:.0f} s")
    if smoke:
        print("figures at the smoke's sizes, not comparable with a whole run: targets not checked")
    print(f"{'metric':<40} {'value':>14}  {'target':<28} met")
    for metric, value, target, verdict in table(results["figures"], verdicts=not smoke):
        print(f"{metric:<40} {value:>14}  {target:<28} {verdict}")
    print(f"\nwritten: {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="every step at its smallest size, in seconds")
    parser.add_argument("--results", type=Path, help="where to write (default build/bench/results.json, "
                                                     "or build/bench/smoke.json with --smoke)")
    parser.add_argument("--site-dir", type=Path, default=REPO / "build" / "site", help="the built site to serve")
    parser.add_argument("--update-docs", "--update-readme", action="store_true",
                        help="rewrite the performance doc's figures from this run (whole runs only)")
    args = parser.parse_args(argv)
    if args.update_docs and args.smoke:
        parser.error("--update-docs takes a whole run's figures, never the smoke's")
    path = args.results or (SMOKE_RESULTS if args.smoke else RESULTS)
    results = run_all(args.site_dir, args.smoke)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8")
    _print(results, path)
    failed = [name for name, step in results["steps"].items() if not step["ok"]]
    if failed:
        print("\nbenchmark steps FAILED: " + "; ".join(
            f"{name} ({results['steps'][name].get('where') or 'no line'}): {results['steps'][name]['error']}"
            for name in failed), file=sys.stderr)
        return 1
    return 0 if args.smoke else _docs(results, args.update_docs)


def _docs(results: dict, update: bool) -> int:
    """Rewrite the performance doc's figures if asked; say whether it quotes this run."""
    name = docs.PERFORMANCE_DOC.relative_to(REPO)
    if update:
        try:
            docs.update(results)
        except (OSError, ValueError) as error:
            print(f"{name}: not updated: {error}", file=sys.stderr)
            return 1
        print(f"{name} and {docs.QUOTED_RESULTS.relative_to(REPO)}: figures rewritten from this run")
    problems = docs.check(results)
    print(f"{name}: " + ("every quoted figure is this run's" if not problems else
                         f"{len(problems)} quoted figures are not this run's (`make bench-check` lists them; "
                         "`make bench BENCH_ARGS=--update-docs` rewrites them)"))
    return 0

