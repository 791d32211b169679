"""The README matches the code: its first lines give the two commands, and its layout
names every module. (Every server setting is documented in docs/deploy.md.)"""

from __future__ import annotations

import dataclasses
import re

from sync_server.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text("utf-8")
DEPLOY = (REPO / "docs" / "deploy.md").read_text("utf-8")


def test_readme_starts_with_make_run_and_make_test():
    head = "\n".join(README.splitlines()[:5])
    assert "make run" in head and "make test" in head


def test_every_server_setting_is_documented_in_the_deploy_page():
    missing = [f.name for f in dataclasses.fields(Settings) if f"`{f.name}`" not in DEPLOY]
    assert missing == []


def _layout() -> dict[str, set[str]]:
    """Each folder of the README's layout section and the modules its entry names."""
    block = README.split("## Layout\n\n```\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    folder = ""
    for line in block.splitlines():
        if not line.startswith(" "):
            folder = line.split()[0]
            line = line[len(folder):]
        entries[folder] = entries.get(folder, "") + line
    return {folder: set(re.findall(r"[\w-]+\.(?:py|js)\b", text)) for folder, text in entries.items()}


def test_readme_layout_names_every_module_and_only_real_ones():
    for folder, named in _layout().items():
        if folder.endswith("/") and named and folder != "site/docs/":
            present = {p.name for p in (REPO / folder).iterdir() if p.suffix in (".py", ".js") and p.name != "__init__.py"}
            assert named == present, folder
