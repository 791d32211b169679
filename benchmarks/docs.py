"""The performance doc's figures: written from build/bench/results.json, and checked against it.

Every figure the doc quotes comes from the last whole `make bench`, so a reader can
trust that a number was measured by the code of the commit named beside it. The doc
quotes figures in two ways, both rewritten by `make bench BENCH_ARGS=--update-docs`:

- the block between `<!-- bench:start -->` and `<!-- bench:end -->`: the run's date,
  commit, machine and load, then a table of every metric, its target and verdict;
- inline, in prose: `<!-- bench:page_fcp_ms -->692 ms<!-- /bench -->` reads "692 ms",
  `<!-- bench:date -->` and `<!-- bench:commit -->` quote the run's date and commit.

`python -m benchmarks.docs` (`make bench-check`) lists every quoted figure that is not
the results file's: a table row or inline value that differs, a tag or a metric named
in backquotes that the file lacks; and fails on a smoke run's file or a run with a
failed step. Numbers written in the doc's prose without a tag are listed as unchecked
(`--strict` fails on them too): a figure is quoted through a tag, a size is written in
words or in code (`python -m benchmarks.office 1000000`), and only a target, a number
right after <, > or =, stands on its own.

build/bench/ is not committed, so the doc is also checked against a committed copy of
the results it quotes: every update writes the run's `run` and `figures` to
docs/performance-results.json, and `make test` checks the doc against that copy with
`--strict` (tests/benchmarks/test_docs.py). `python -m benchmarks.docs --update`
(`make bench-docs`) rewrites the doc and the copy from an existing results.json
without running the benchmarks again.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from benchmarks.common import REPO, RESULTS
from benchmarks.targets import TARGETS, figure, table

# The doc that quotes the figures, and its section (None: the whole file).
PERFORMANCE_DOC = REPO / "docs" / "performance.md"
PERFORMANCE_SECTION: str | None = None
# The committed copy of the results the doc quotes (the run's facts and its figures).
QUOTED_RESULTS = REPO / "docs" / "performance-results.json"

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TAG = re.compile(r"<!-- bench:([a-z0-9_]+) -->([^<\n]*)<!-- /bench -->")
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| ([^|]*) \|")
NAMED = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`")
# A metric-like name: a unit among its parts (`office_list_ms_100k`, `page_offline_set_kb`).
METRIC_LIKE = re.compile(r"_(ms|s|kb|mb|us|b|per_s)(_|$)")
# A number, with its unit if it has one: 692 ms, 1,483 ms, 41.9 KB, 9,516/s, 1.9x, 30%, 100,000.
UNTAGGED = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?"
                      r"(?:\s?(?:ms|s|KB|MB|GB|KiB|MiB|GiB|B|kbps|/s|us|µs|x|%)(?![\w/]))?")


def load_results(path: Path = RESULTS) -> dict:
    """A results file: a run's (run, steps, figures), or the committed copy (run, figures)."""
    if not path.exists():
        raise SystemExit(f"{path}: no results file; `make bench` writes it")
    results = json.loads(path.read_text("utf-8"))
    if not isinstance(results, dict) or not {"run", "figures"} <= set(results):
        raise SystemExit(f"{path}: not a results file of this runner (run, steps, figures)")
    return {"steps": {}, **results}


def quoted_copy(results: dict) -> str:
    """The committed copy of what the doc quotes: the run's facts and its figures."""
    return json.dumps({"run": results["run"], "figures": results["figures"]},
                      indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def run_line(results: dict) -> str:
    facts = results["run"]
    before, after = facts["load_before"][0], facts["load_after"][0]  # the 1-minute averages
    return (f"Last whole `make bench`: {facts['date'][:10]} (UTC), commit `{facts['commit'][:10]}`"
            f"{' with uncommitted changes' if facts['dirty'] else ''}; {facts['cores']} cores ({facts['machine']}), "
            f"Python {facts['python']}, {facts['chromium'] or 'Chromium'}; load average {before:.1f} before, "
            f"{after:.1f} after; {facts['wall_s'] / 60:.0f} min in all.")


def render_block(results: dict) -> str:
    lines = [run_line(results), "", "| metric | value | target | met |", "|---|---|---|---|"]
    lines += [f"| `{m}` | {v} | {t} | {ok} |" for m, v, t, ok in table(results["figures"])]
    return "\n".join(lines)


def _tag_value(name: str, results: dict) -> str | None:
    if name == "date":
        return results["run"]["date"][:10]
    if name == "commit":
        return results["run"]["commit"][:10]
    if name in results["figures"] and name in TARGETS:
        return figure(results["figures"][name], TARGETS[name][0])
    return None


def update(results: dict, doc: Path | None = None, copy: Path | None = None) -> None:
    """Rewrite the block and every inline tag from `results` (a whole run's with every
    step passed), and the committed copy of the results beside the doc."""
    doc = doc or PERFORMANCE_DOC
    copy = copy or QUOTED_RESULTS
    if results["run"].get("smoke"):
        raise ValueError("a smoke run's figures are not the full sizes': the doc quotes whole runs only")
    failed = [name for name, step in results["steps"].items() if not step.get("ok")]
    if failed:
        raise ValueError(f"steps failed in this run ({', '.join(failed)}): the doc quotes whole runs only")
    text = doc.read_text("utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{doc}: put {START} and {END} on lines of their own where the table goes")
    head, rest = text.split(START, 1)
    text = head + START + "\n" + render_block(results) + "\n" + END + rest.split(END, 1)[1]

    def fill(match: re.Match) -> str:
        value = _tag_value(match.group(1), results)
        return match.group(0) if value is None else f"<!-- bench:{match.group(1)} -->{value}<!-- /bench -->"

    doc.write_text(TAG.sub(fill, text), "utf-8")
    copy.write_text(quoted_copy(results), "utf-8")


def _section(lines: list[str]) -> range:
    """The line numbers (0-based) of the performance section."""
    if PERFORMANCE_SECTION is None:
        return range(len(lines))
    level = PERFORMANCE_SECTION.split(" ", 1)[0]
    starts = [n for n, line in enumerate(lines) if line.strip() == PERFORMANCE_SECTION]
    if not starts:
        return range(0)
    end = next((n for n in range(starts[0] + 1, len(lines))
                if lines[n].startswith("#") and len(lines[n].split(" ", 1)[0]) <= len(level)), len(lines))
    return range(starts[0], end)


def _block_problems(text: str, results: dict) -> list[str]:
    if START not in text or END not in text:
        return [f"no {START} ... {END} block"]
    quoted = text.split(START, 1)[1].split(END, 1)[0].strip("\n").split("\n")
    wanted = render_block(results).split("\n")
    problems = []
    if quoted[0] != wanted[0]:
        problems.append(f"the block's run line is not the results file's:\n    doc:     {quoted[0]}\n    results: {wanted[0]}")
    rows = {m.group(1): line for line in quoted if (m := ROW.match(line))}
    for line in wanted:
        metric = ROW.match(line)
        if metric and metric.group(1) in rows and rows[metric.group(1)] != line:
            problems.append(f"table row `{metric.group(1)}`:\n    doc:     {rows[metric.group(1)]}\n    results: {line}")
    problems += [f"table row `{m}`: no such metric in results.json" for m in rows if m not in results["figures"]]
    return problems


def _blank_block(text: str) -> str:
    """The text with the generated block's lines emptied (line numbers kept)."""
    if START not in text or END not in text:
        return text
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    return head + "\n" * block.count("\n") + tail


def check(results: dict, doc: Path | None = None, strict: bool = False) -> list[str]:
    """Every quoted figure that is not the results file's, one sentence each."""
    doc = doc or PERFORMANCE_DOC
    if not doc.exists():
        return [f"{doc}: no such file (PERFORMANCE_DOC in benchmarks/docs.py names the doc that quotes the figures)"]
    text = doc.read_text("utf-8")
    problems = []
    if results["run"].get("smoke"):
        problems.append("the results file is a smoke run's: its figures are not the full sizes'")
    problems += [f"step {name} failed in this run: {step.get('error', '')}"
                 for name, step in results["steps"].items() if not step.get("ok")]
    problems += _block_problems(text, results)
    lines = _blank_block(text).split("\n")
    for n, line in enumerate(lines, 1):
        for match in TAG.finditer(line):
            wanted = _tag_value(match.group(1), results)
            if wanted is None:
                problems.append(f"line {n}: tag bench:{match.group(1)}: no such figure in results.json")
            elif match.group(2) != wanted:
                problems.append(f"line {n}: bench:{match.group(1)} says {match.group(2)!r}, results.json {wanted!r}")
    for n in _section(lines):
        for name in NAMED.findall(TAG.sub("", lines[n])):
            if (name in TARGETS or METRIC_LIKE.search(name)) and name not in results["figures"]:
                problems.append(f"line {n + 1}: names `{name}`, which results.json does not hold")
    if strict:
        problems += [f"line {n}: {found} is quoted without a bench tag" for n, found in unchecked(doc)]
    return problems


def unchecked(doc: Path | None = None) -> list[tuple[int, str]]:
    """Numbers in the section's prose that no tag ties to the results file: outside the
    generated block, tags and code spans; targets (after <, > or =) excepted."""
    doc = doc or PERFORMANCE_DOC
    if not doc.exists():
        return []
    lines = _blank_block(doc.read_text("utf-8")).split("\n")
    found = []
    for n in _section(lines):
        line = re.sub(r"`[^`]*`", "", TAG.sub("", lines[n]))
        for match in UNTAGGED.finditer(line):
            if not re.search(r"[<>=]\s*$", line[: match.start()]):  # a target, not a figure
                found.append((n + 1, match.group(0)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=PERFORMANCE_DOC)
    parser.add_argument("--strict", action="store_true", help="fail on figures quoted without a tag too")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the doc's figures and docs/performance-results.json from --results "
                             "(no benchmark runs), then check the doc strictly")
    parser.add_argument("--copy", type=Path, default=QUOTED_RESULTS,
                        help="the committed copy of the quoted results that --update writes")
    parser.add_argument("--committed", action="store_true",
                        help="check against the committed copy (docs/performance-results.json), as `make test` does")
    args = parser.parse_args(argv)
    if args.committed:
        args.results = args.copy
    results = load_results(args.results)
    if args.update:
        try:
            update(results, args.doc, args.copy)
        except (OSError, ValueError) as error:
            print(f"{args.doc}: not updated: {error}", file=sys.stderr)
            return 1
        print(f"{args.doc} and {args.copy}: rewritten from {args.results}")
        args.strict = True
    problems = check(results, args.doc, args.strict)
    loose = [] if args.strict else unchecked(args.doc)
    if loose:
        print(f"{len(loose)} figures in {args.doc} carry no bench tag and were not checked:")
        for n, found in loose:
            print(f"  line {n}: {found}")
    if problems:
        print(f"{args.doc}: {len(problems)} quoted figures are not {args.results}'s:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{args.doc}: every tagged figure is {args.results}'s (run of {results['run']['date']}, "
          f"commit {results['run']['commit'][:10]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
