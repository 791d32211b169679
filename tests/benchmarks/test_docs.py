"""The performance doc quotes only figures of build/bench/results.json: the checker
finds a stale table row, a stale or unknown inline figure and a metric the file lacks;
`--update-docs` writes what the checker accepts. And since build/ is not committed, the
doc itself is checked on every `make test` against the committed copy of the results it
quotes (docs/performance-results.json): a figure edited by hand or a number written
without a tag fails here."""

from __future__ import annotations

import json
import re

import pytest

from benchmarks import docs
from benchmarks.targets import TARGETS


def _results(**changes) -> dict:
    figures = {metric: 100.0 + n for n, metric in enumerate(TARGETS)}
    figures.update(changes)
    return {"run": {"smoke": False, "date": "2026-12-08T01:02:03+00:00", "commit": "0123456789abcdef" * 2 + "01234567",
                    "dirty": False, "wall_s": 2400.0, "load_before": [0.4, 0.5, 0.6], "load_after": [1.2, 1.0, 0.8],
                    "machine": "x86_64", "cores": 2, "python": "3.11.7", "chromium": "Chromium 156"},
            "steps": {"page": {"ok": True, "seconds": 60.0}}, "figures": figures}


DOC = """# 民情哨

## Layout

`not_a_metric_ms` outside the section is not checked.

## Performance

First paint <!-- bench:page_fcp_ms -->1 ms<!-- /bench --> on <!-- bench:date -->?<!-- /bench -->
(commit <!-- bench:commit -->?<!-- /bench -->); the offline set is `page_offline_set_kb`.
An old figure: 1,880 ms, against a target of < 720 ms.

<!-- bench:start -->
<!-- bench:end -->

## After
"""


@pytest.fixture
def doc(tmp_path, monkeypatch):
    path = tmp_path / "README.md"
    path.write_text(DOC, "utf-8")
    monkeypatch.setattr(docs, "PERFORMANCE_DOC", path)
    monkeypatch.setattr(docs, "PERFORMANCE_SECTION", "## Performance")
    monkeypatch.setattr(docs, "QUOTED_RESULTS", tmp_path / "quoted.json")
    return path


def test_a_doc_written_from_the_results_passes_and_quotes_the_run(doc):
    results = _results(page_fcp_ms=692.4)
    docs.update(results)
    text = doc.read_text("utf-8")
    assert "First paint <!-- bench:page_fcp_ms -->692 ms<!-- /bench --> on <!-- bench:date -->2026-12-08" in text
    assert "<!-- bench:commit -->0123456789<!-- /bench -->" in text
    assert "Last whole `make bench`: 2026-12-08 (UTC), commit `0123456789`" in text
    assert "| `page_fcp_ms` | 692 ms | <= 720 | yes |" in text
    assert docs.check(results) == []
    assert docs.unchecked() == [(11, "1,880 ms")]  # the target is not a figure
    assert any("without a bench tag" in p for p in docs.check(results, strict=True))


def test_figures_that_are_not_the_results_files_are_each_named(doc):
    docs.update(_results(page_fcp_ms=692.4))
    problems = docs.check(_results(page_fcp_ms=701.0, build_25_s=0.5))
    assert any(p.startswith("line 9: bench:page_fcp_ms says '692 ms', results.json '701 ms'") for p in problems)
    assert any(p.startswith("table row `page_fcp_ms`") for p in problems)
    assert any(p.startswith("table row `build_25_s`") for p in problems)
    later = _results()
    later["run"]["commit"] = "f" * 40
    assert any("run line" in p for p in docs.check(later))


def test_a_metric_or_tag_the_results_lack_is_named(doc):
    results = _results()
    docs.update(results)
    del results["figures"]["page_offline_set_kb"]
    doc.write_text(doc.read_text("utf-8").replace("First paint", "<!-- bench:page_fcp_s -->1 s<!-- /bench -->"))
    problems = docs.check(results)
    assert "line 10: names `page_offline_set_kb`, which results.json does not hold" in problems
    assert "line 9: tag bench:page_fcp_s: no such figure in results.json" in problems
    assert not any("not_a_metric_ms" in p for p in problems)


def test_a_smoke_or_failed_run_is_never_quoted(doc):
    results = _results()
    docs.update(results)
    results["run"]["smoke"] = True
    results["steps"]["sync"] = {"ok": False, "seconds": 1.0, "error": "TypeError: boom"}
    problems = docs.check(results)
    assert any("smoke run" in p for p in problems) and "step sync failed in this run: TypeError: boom" in problems
    with pytest.raises(ValueError, match="smoke"):
        docs.update(results)
    results["run"]["smoke"] = False
    with pytest.raises(ValueError, match="sync"):
        docs.update(results)


def test_the_update_writes_the_committed_copy_and_the_doc_checks_against_it(doc, tmp_path):
    """`python -m benchmarks.docs --update` re-renders from an existing results.json (no
    benchmark runs) and writes the copy; `--committed` checks against the copy alone."""
    results_file, copy = tmp_path / "results.json", tmp_path / "quoted.json"
    results_file.write_text(json.dumps(_results(page_fcp_ms=692.4)), "utf-8")
    assert docs.main(["--update", "--results", str(results_file), "--doc", str(doc)]) == 1  # the untagged 1,880 ms
    quoted = json.loads(copy.read_text("utf-8"))
    assert set(quoted) == {"run", "figures"} and quoted["figures"]["page_fcp_ms"] == 692.4
    assert "<!-- bench:page_fcp_ms -->692 ms<!-- /bench -->" in doc.read_text("utf-8")
    doc.write_text(doc.read_text("utf-8").replace("An old figure: 1,880 ms, against", "Against"), "utf-8")
    assert docs.main(["--committed", "--strict", "--doc", str(doc)]) == 0
    assert docs.check(docs.load_results(copy), strict=True) == []


def test_the_command_fails_on_a_stale_doc_and_names_the_figure(doc, tmp_path, capsys):
    results_file = tmp_path / "results.json"
    results_file.write_text(json.dumps(_results(page_fcp_ms=692.4)), "utf-8")
    docs.update(_results(page_fcp_ms=500.0))
    assert docs.main(["--results", str(results_file), "--doc", str(doc)]) == 1
    assert "bench:page_fcp_ms says '500 ms', results.json '692 ms'" in capsys.readouterr().err
    docs.update(_results(page_fcp_ms=692.4))
    assert docs.main(["--results", str(results_file), "--doc", str(doc)]) == 0


def test_the_performance_doc_has_its_section_and_the_block_update_writes():
    """Where the figures live (benchmarks/docs.py): moving the section means changing
    PERFORMANCE_DOC and PERFORMANCE_SECTION there, and keeping the block's markers."""
    text = docs.PERFORMANCE_DOC.read_text("utf-8")
    assert docs.START in text and docs.END in text
    if docs.PERFORMANCE_SECTION:
        assert docs.PERFORMANCE_SECTION in text.splitlines()


def test_the_performance_doc_quotes_only_the_committed_results():
    """Every figure docs/performance.md quotes is docs/performance-results.json's, its run
    line is that run's, and it writes no number without a tag. To quote a new run:
    `make bench BENCH_ARGS=--update-docs` (or `make bench-docs` after `make bench`)."""
    quoted = docs.load_results(docs.QUOTED_RESULTS)
    assert not quoted["run"]["smoke"], "the committed copy is a smoke run's"
    assert set(quoted["figures"]) == set(TARGETS), "the committed copy lacks figures of a whole run"
    assert docs.check(quoted, strict=True) == []


@pytest.mark.parametrize("edit, problem", [
    (lambda t: re.sub(r"(<!-- bench:page_fcp_ms -->)[^<]*", r"\g<1>1 ms", t, count=1), "bench:page_fcp_ms says '1 ms'"),
    (lambda t: re.sub(r"(\| `build_25_s` \| )[^|]*", r"\g<1>0.10 s ", t), "table row `build_25_s`"),
    (lambda t: t.replace("## How to read the figures\n", "## How to read the figures\n\nA list takes 12 ms.\n"),
     "12 ms is quoted without a bench tag"),
    (lambda t: t.replace("## How to read the figures\n", "## How to read the figures\n\nOne run took 3 minutes.\n"),
     "3 is quoted without a bench tag"),
    (lambda t: re.sub(r"(Last whole `make bench`: )\S+", r"\g<1>2001-01-01", t), "run line"),
    (lambda t: re.sub(r"(<!-- bench:commit -->)[^<]*", r"\g<1>0000000000", t), "bench:commit says '0000000000'"),
])
def test_a_hand_edit_of_the_performance_doc_fails_the_check(edit, problem, tmp_path):
    """The test above fails when the doc is edited by hand: a figure, a table row, the
    run line or the commit changed, or a number added without a tag."""
    doc = tmp_path / "performance.md"
    text = docs.PERFORMANCE_DOC.read_text("utf-8")
    edited = edit(text)
    assert edited != text, "the edit found nothing to change in docs/performance.md"
    doc.write_text(edited, "utf-8")
    problems = docs.check(docs.load_results(docs.QUOTED_RESULTS), doc, strict=True)
    assert any(problem in p for p in problems), problems
