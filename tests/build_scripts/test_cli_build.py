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


def _registry_with_base(tmp_path, base_url: str):
    registry = tmp_path / "stations.yml"
    text = SAMPLE_REGISTRY.read_text("utf-8")
    registry.write_text(text.replace("base_url: http://127.0.0.1:8000/", f"base_url: {base_url}"), "utf-8")
    assert base_url in registry.read_text("utf-8")
    return registry


def test_build_warns_in_one_sentence_when_posters_would_encode_a_loopback_or_plain_http_address(tmp_path):
    for base_url, words in (("http://127.0.0.1:8000/", "loopback"), ("http://localhost/", "loopback"),
                            ("http://minqing.example.cn/", "not HTTPS")):
        registry = _registry_with_base(tmp_path, base_url)
        args = ("build", "--config", str(MKDOCS_YML), "--registry", str(registry), "--site-dir", str(tmp_path / "site"))
        result = _minqing(*args)
        assert result.returncode == 0
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("warning: ") and words in line and base_url in line
        strict = _minqing(*args, "--strict")
        assert strict.returncode == 2 and strict.stderr.startswith("error: ") and words in strict.stderr


def test_build_with_a_public_https_address_says_nothing_even_when_strict(tmp_path):
    registry = _registry_with_base(tmp_path, "https://minqing.example.cn/")
    result = _minqing("build", "--config", str(MKDOCS_YML), "--registry", str(registry),
                      "--site-dir", str(tmp_path / "site"), "--strict")
    assert result.returncode == 0 and result.stderr == ""
