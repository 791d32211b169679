"""The docs hold in a clone: every link resolves to a file of the repository (and its
anchor to a heading), no page is longer than one sitting, every page is on the README's
map, and what a page names in code (a path, a module, a test, a `minqing` command and
its options) exists."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from sync_server.cli.command import _parser
from sync_server.settings import Settings
from tests.conftest import REPO
from tests.sync_server.web.test_proxy import NGINX_SITE

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LONGEST_PAGE = 300
# Top folders of the repository whose paths a page may name in code.
TRACKED = ("benchmarks", "build_scripts", "docs", "minqing", "site", "sync_server", "tests")

_FENCE = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
_INDENTED = re.compile(r"^(?: {4}|\t).*$", re.M)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(TRACKED)})/[\w./-]*\w/?)(?:::(\w+))?")
_MODULE = re.compile(r"(?<![\w.])sync_server(?:\.\w+)+")


def _page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


def _code(text: str) -> list[str]:
    """The code in a page: fenced and indented blocks, and inline code spans."""
    blocks = _FENCE.findall(text) + _INDENTED.findall(_FENCE.sub("", text))
    # A code span may wrap onto the next line; it reads as one line.
    return blocks + [" ".join(m.group(2).split()) for m in _CODE_SPAN.finditer(_prose(text))]


def _prose(text: str) -> str:
    """A page without its code blocks (code spans stay: links are found outside them)."""
    return _INDENTED.sub("", _FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _CODE_SPAN.sub("", _prose(text))
    return _LINK.findall(prose) + _REFERENCE.findall(prose)


def _anchors(page: Path) -> set[str]:
    """Heading anchors as GitHub makes them: lower case, punctuation dropped, spaces to hyphens."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(page.read_text("utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _broken_links(page: Path) -> list[str]:
    broken = []
    for target in _links(page.read_text("utf-8")):
        if _SCHEME.match(target):
            continue  # http:, https:, mailto:: not a file of the repository
        path, _, anchor = target.partition("#")
        if path.startswith("/"):
            broken.append(f"{target}: an absolute path, which a clone does not resolve")
            continue
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(REPO):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading with that anchor")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_relative_link_resolves_inside_the_repository(page):
    broken = _broken_links(page)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_no_page_is_longer_than_one_sitting(page):
    lines = len(page.read_text("utf-8").splitlines())
    assert lines <= LONGEST_PAGE, f"{lines} lines: split the page, or move a part to a page of its own"


def test_the_readme_maps_every_page_of_the_docs():
    linked = {(REPO / target.partition("#")[0]).resolve() for target in _links(PAGES[0].read_text("utf-8"))}
    unmapped = [_page_id(page) for page in PAGES[1:] if page not in linked]
    assert not unmapped, f"not on the README's map: {unmapped}"


def _missing_paths(text: str) -> list[str]:
    missing = []
    for code in _code(text):
        for path, test in _PATH.findall(code):
            file = REPO / path
            if not file.exists():
                missing.append(path)
            elif test and not re.search(rf"^def {test}\(", file.read_text("utf-8"), re.M):
                missing.append(f"{path}::{test}")
    return missing


def _missing_module(dotted: str) -> str | None:
    """None when the dotted name is a module, or a name a module defines."""
    parts = dotted.split(".")
    folder = REPO / parts[0]
    for i, part in enumerate(parts[1:], start=1):
        if (folder / part).is_dir():
            folder = folder / part
        elif (folder / f"{part}.py").exists():
            if i + 1 == len(parts):
                return None
            name = parts[i + 1]
            source = (folder / f"{part}.py").read_text("utf-8")
            return None if re.search(rf"^(?:def|class) {name}\b|^{name}\s*[:=]", source, re.M) else dotted
        else:
            return dotted
    return None


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_path_module_and_test_a_page_names_exists(page):
    text = page.read_text("utf-8")
    modules = [m for code in _code(text) for m in _MODULE.findall(code)]
    missing = _missing_paths(text) + [m for m in modules if _missing_module(m)]
    assert not missing, "\n".join(missing)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    # argparse keeps its sub-parsers in a private action; there is no public way to list them.
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _wrong_command(line: str) -> str | None:
    """None when the `minqing ...` line names a real command and only options it takes."""
    words = line.split("#", 1)[0].split()
    parser, i = _parser(), 1
    while (choices := _subcommands(parser)):
        if i >= len(words) or words[i] not in choices:
            return f"{line}: no command {' '.join(words[:i + 1])!r}"
        parser, i = choices[words[i]], i + 1
    unknown = [o for o in re.findall(r"(?<![\w-])--[a-z][\w-]*", " ".join(words[i:]))
               if o not in parser._option_string_actions]
    return f"{line}: {' '.join(words[:i])} takes no {', '.join(unknown)}" if unknown else None


def _command_lines(text: str) -> list[str]:
    return [m.group(1) for code in _code(text)
            for m in re.finditer(r"(?:^|\s)(?:\.venv/bin/)?(minqing [^\n]*)", code)]


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_minqing_command_a_page_shows_is_real(page):
    wrong = [_wrong_command(line) for line in _command_lines(page.read_text("utf-8"))]
    wrong = [w for w in wrong if w]
    assert not wrong, "\n".join(wrong)


def test_every_server_setting_is_documented_in_the_deploy_page():
    deploy = (REPO / "docs" / "deploy.md").read_text("utf-8")
    assert [f.name for f in dataclasses.fields(Settings) if f"`{f.name}`" not in deploy] == []


def test_the_deploy_pages_nginx_block_is_the_one_the_proxy_test_runs():
    """Every directive of the documented block but its TLS and naming is in the tested one."""
    deploy = (REPO / "docs" / "deploy.md").read_text("utf-8")
    block = deploy.split("    server {\n", 1)[1].split("\n    }\n", 1)[0]
    # The documented server listens on 8000; the test's on a free port.
    tested = {" ".join(line.split()) for line in (NGINX_SITE % {"upstream": 8000}).splitlines()}
    directives = {" ".join(line.split()) for line in block.splitlines()}
    untested = [d for d in directives if d and not d.startswith(("listen ", "server_name ", "ssl_")) and d not in tested]
    assert untested == []
