"""`minqing build` from the command line: one sentence and a non-zero exit on errors."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY
from tests.forkserver import build_launcher


# The command as its own process (its exit code and standard error are what these tests
# check), forked from one that has imported the build already (tests/forkserver.py).
def _minqing(*args: str) -> subprocess.CompletedProcess:
    return build_launcher.run([sys.executable, "-m", "sync_server.cli", *args])


def test_build_reports_a_registry_error_in_one_sentence_and_fails(tmp_path):
    registry = tmp_path / "stations.yml"
    sample = SAMPLE_REGISTRY.read_text("utf-8")
    line = sample[:sample.index("id: hebin-primary")].count("\n") + 1
    registry.write_text(sample.replace("id: hebin-primary", "id: jintan-east-bus"), "utf-8")
    site = tmp_path / "site"
    result = _minqing("build", "--config", str(MKDOCS_YML), "--registry", str(registry), "--site-dir", str(site))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(registry) in lines[0] and f"line {line}" in lines[0] and "used twice" in lines[0]
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


# --- a build that cannot forget the keys (issue 20) ---------------------------------
# With a keyring in the data folder, a build that would publish no public keys or old
# ones stops with one sentence before anything is built: the forms would otherwise keep
# the words in clear on the tablets, or seal them to a key the office rotated away from.

def _keys(tmp_path):
    from sync_server.sealing.keyring import Keyring

    keyring = Keyring(tmp_path / "data")
    keyring.init(["public-order", "education-health", "transport"])
    return keyring


def _build(tmp_path, *args, cwd=None):
    return build_launcher.run([sys.executable, "-m", "sync_server.cli", "build", "--config", str(MKDOCS_YML),
                               "--site-dir", str(tmp_path / "site"), *args], cwd=cwd)


def _one_sentence_and_no_site(result, tmp_path, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith("."), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert not (tmp_path / "site").exists()


def test_build_stops_when_the_public_key_file_is_mistyped(tmp_path):
    keyring = _keys(tmp_path)
    mistyped = keyring.public_path.with_name("pubic.json")
    result = _build(tmp_path, "--data-dir", str(tmp_path / "data"), "--public-keys", str(mistyped), "--strict")
    _one_sentence_and_no_site(result, tmp_path, str(mistyped))


def test_build_stops_when_keys_exist_but_it_would_publish_none(tmp_path):
    keyring = _keys(tmp_path)
    keyring.public_path.unlink()
    result = _build(tmp_path, "--data-dir", str(tmp_path / "data"))
    _one_sentence_and_no_site(result, tmp_path, "no public keys", "--public-keys")


def test_build_from_the_folder_of_the_data_stops_when_the_default_file_is_missing(tmp_path):
    # The defaults: `data/` and `data/keys/public.json` beside where the operator runs it.
    keyring = _keys(tmp_path)
    keyring.public_path.unlink()
    _one_sentence_and_no_site(_build(tmp_path, cwd=tmp_path), tmp_path, "no public keys")


def test_build_stops_when_the_public_keys_are_stale_after_a_rotation(tmp_path):
    keyring = _keys(tmp_path)
    old = tmp_path / "public-before-rotate.json"
    old.write_bytes(keyring.public_path.read_bytes())
    keyring.rotate(["public-order", "education-health", "transport"])
    result = _build(tmp_path, "--data-dir", str(tmp_path / "data"), "--public-keys", str(old))
    _one_sentence_and_no_site(result, tmp_path, "not the keyring's current", "public-order")


def test_build_publishes_the_keyrings_current_keys(tmp_path):
    keyring = _keys(tmp_path)
    keyring.rotate(["public-order"])
    result = _build(tmp_path, "--data-dir", str(tmp_path / "data"), "--public-keys", str(keyring.public_path))
    assert result.returncode == 0, result.stderr
    published = json.loads((tmp_path / "site" / "keys.json").read_text("utf-8"))
    assert {e["sector"]: kid for kid, e in published["keys"].items()} == \
        {sector: key.kid for sector, key in keyring.public_keys().items()}
