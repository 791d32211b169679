"""Shared test worlds: the repository's paths and a built copy of the sample site."""

from __future__ import annotations

from pathlib import Path

import pytest

from build_scripts.publish import build_site
from minqing.registry import DEFAULT_REGISTRY, load_registry

REPO = Path(__file__).resolve().parent.parent
MKDOCS_YML = REPO / "mkdocs.yml"
SAMPLE_REGISTRY = REPO / DEFAULT_REGISTRY


@pytest.fixture(scope="session")
def sample_registry():
    return load_registry(SAMPLE_REGISTRY)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The sample registry built once per session into its own folder (read-only use)."""
    site_dir = tmp_path_factory.mktemp("built") / "site"
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, site_dir)
    return site_dir


def pytest_collection_modifyitems(items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and in-process tests that call `asyncio.run`
    (the intake, kiosk import) would otherwise fail after the first browser test."""
    items.sort(key=lambda item: "/e2e/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("e2e/"))
