"""An ordinary install (`pip install .`, a wheel) holds every package of the server: a
hand-written package list once left the subpackages out, and `minqing` could not start."""

from __future__ import annotations

import tomllib

from setuptools import find_packages

from tests.conftest import REPO


def test_every_package_is_in_the_distribution():
    found = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(where=REPO, include=found["include"]))
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for top in ("build_scripts", "minqing", "sync_server")
               for p in (REPO / top).rglob("__init__.py")}
    assert on_disk - shipped == set() and "sync_server.store.embedded" in shipped
