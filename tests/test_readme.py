"""The README's first screen gives the two commands and the first office account, and
its layout names every module. (tests/test_docs.py checks its links and commands, and
that every server setting is documented in docs/deploy.md.)"""

from __future__ import annotations

import re

from tests.conftest import REPO

README = (REPO / "README.md").read_text("utf-8")
FIRST_SCREEN = 50  # lines


def test_readme_starts_with_make_run_and_make_test():
    head = "\n".join(README.splitlines()[:5])
    assert "make run" in head and "make test" in head


def test_readme_first_screen_shows_how_to_add_the_first_office_account():
    head = README.splitlines()[:FIRST_SCREEN]
    assert any("minqing office add-user" in line and "--role staff" in line for line in head)


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
