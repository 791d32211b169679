"""Volunteer sheets: written by `minqing build` beside the site, never inside it,
private, one per tablet, each QR opening the post's page with the tablet and PIN digest."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from build_scripts.qr import qr_images
from build_scripts.volunteer import Tablet, kiosk_url, load_tablets, pin_digest, volunteer_sheets
from minqing.registry import RegistryError, load_registry
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY

TABLETS = """\
tablets:
  - {station: rulin-industrial-park, name: rulin-1, pin: "482913"}
  - {station: rulin-industrial-park, name: rulin-2, pin: "771100"}
  - {station: hebin-primary, name: hebin-1, pin: "2468"}
"""


def _build(tmp_path, tablets: str | None = TABLETS) -> subprocess.CompletedProcess:
    args = ["build", "--config", str(MKDOCS_YML), "--site-dir", str(tmp_path / "out" / "site")]
    if tablets is not None:
        (tmp_path / "tablets.yml").write_text(tablets, "utf-8")
        args += ["--tablets", str(tmp_path / "tablets.yml")]
    return subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True)


def test_the_kiosk_link_carries_the_tablet_and_a_digest_of_the_pin_never_the_pin():
    registry = load_registry(SAMPLE_REGISTRY)
    url = kiosk_url(registry, Tablet("rulin-industrial-park", "rulin-1", "482913"))
    digest = pin_digest("rulin-industrial-park", "rulin-1", "482913")
    assert url == f"{registry.site.base_url}s/rulin-industrial-park/#kiosk=rulin-1.{digest}"
    assert "482913" not in url
    # The digest is bound to the post and the tablet: one PIN, different digests.
    assert digest != pin_digest("hebin-primary", "rulin-1", "482913") != pin_digest("rulin-industrial-park", "x", "482913")


def test_each_sheet_holds_its_tablets_qr_code_and_not_the_pin():
    registry = load_registry(SAMPLE_REGISTRY)
    tablets = [Tablet("rulin-industrial-park", "rulin-1", "482913"), Tablet("hebin-primary", "hebin-1", "2468")]
    sheets = volunteer_sheets(registry, tablets)
    assert set(sheets) == {"rulin-1.html", "hebin-1.html", "index.html"}
    svg = qr_images(kiosk_url(registry, tablets[0]))[0].decode()
    assert svg in sheets["rulin-1.html"] and svg in sheets["index.html"]
    assert "482913" not in sheets["index.html"] and "2468" not in sheets["index.html"]
    assert "不要张贴" in sheets["rulin-1.html"]


def test_build_writes_private_sheets_beside_the_site_and_nothing_of_them_in_it(tmp_path):
    result = _build(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "volunteer sheets for 3 tablets" in result.stdout
    folder = tmp_path / "out" / "volunteer"
    assert sorted(p.name for p in folder.iterdir()) == ["hebin-1.html", "index.html", "rulin-1.html", "rulin-2.html"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    digest = pin_digest("rulin-industrial-park", "rulin-1", "482913").encode()
    for path in (tmp_path / "out" / "site").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert digest not in content and b"rulin-1" not in content, path
    # A tablet taken off the list loses its sheet at the next build.
    _build(tmp_path, TABLETS.replace('  - {station: rulin-industrial-park, name: rulin-2, pin: "771100"}\n', ""))
    assert not (folder / "rulin-2.html").exists()


def test_without_a_tablet_list_the_build_writes_no_sheets(tmp_path):
    result = _build(tmp_path, tablets=None)
    assert result.returncode == 0 and "volunteer" not in result.stdout
    assert not (tmp_path / "out" / "volunteer").exists()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('{station: nowhere, name: t1, pin: "1234"}', "unknown station 'nowhere'"),
        ('{station: hebin-primary, name: "t 1", pin: "1234"}', "name must be"),
        ('{station: hebin-primary, name: t1, pin: "12"}', "pin must be 4 to 12 digits"),
        ('{station: hebin-primary, name: rulin-1, pin: "1234"}', "used twice"),
    ],
)
def test_a_mistake_in_the_tablet_list_is_one_sentence(tmp_path, entry, problem):
    path = tmp_path / "tablets.yml"
    path.write_text(TABLETS + f"  - {entry}\n", "utf-8")
    with pytest.raises(RegistryError, match=problem):
        load_tablets(path, load_registry(SAMPLE_REGISTRY))


def test_a_named_tablet_list_that_is_missing_fails_the_build(tmp_path):
    args = ["build", "--config", str(MKDOCS_YML), "--site-dir", str(tmp_path / "site"), "--tablets", str(tmp_path / "no.yml")]
    result = subprocess.run([sys.executable, "-m", "sync_server.cli", *args], capture_output=True, text=True)
    assert result.returncode == 2 and "tablet list cannot be read" in result.stderr
