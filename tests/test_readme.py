"""The README matches the code: its first lines give the two commands, and every
server setting is documented."""

from __future__ import annotations

import dataclasses

from sync_server.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text("utf-8")


def test_readme_starts_with_make_run_and_make_test():
    head = "\n".join(README.splitlines()[:5])
    assert "make run" in head and "make test" in head


def test_every_server_setting_is_documented():
    missing = [f.name for f in dataclasses.fields(Settings) if f"`{f.name}`" not in README]
    assert missing == []
