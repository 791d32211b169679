"""`minqing build` from the command line: one sentence and a non-zero exit on errors."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY


def _minqing(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True)


def test_build_reports_a_registry_error_in_one_sentence_and_fails(tmp_path):
    registry = tmp_path / "stations.yml"
    registry.write_text(SAMPLE_REGISTRY.read_text("utf-8").replace("id: hebin-primary", "id: jintan-east-bus"), "utf-8")
    site = tmp_path / "site"
    result = _minqing("build", "--config", str(MKDOCS_YML), "--registry", str(registry), "--site-dir", str(site))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(registry) in lines[0] and "line 42" in lines[0] and "used twice" in lines[0]
    assert not site.exists()


def test_build_of_the_sample_registry_succeeds(tmp_path):
    result = _minqing("build", "--config", str(MKDOCS_YML), "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "s" / "jintan-east-bus" / "index.html").exists()


def test_every_subcommand_has_help():
    for command in (["build"],):
        result = _minqing(*command, "--help")
        assert result.returncode == 0 and "usage: minqing" in result.stdout
