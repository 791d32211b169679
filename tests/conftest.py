"""Shared test worlds: the repository's paths, a built copy of the sample site, and a
cheaper password hash for tests that are not about its cost.

The suite runs on parallel workers (pytest-xdist, see the Makefile's `test`): every
fixture here is per worker, and so is every folder (`tmp_path`) and port (`free_port`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from build_scripts.publish import build_site
from minqing.registry import DEFAULT_REGISTRY, load_registry

REPO = Path(__file__).resolve().parent.parent
MKDOCS_YML = REPO / "mkdocs.yml"
SAMPLE_REGISTRY = REPO / DEFAULT_REGISTRY

# scrypt at 1 MiB instead of the stated 128 MiB (`accounts.SCRYPT`): about 1/128 of the
# work. For tests of what accounts and key locks do; the tests of what they cost, and
# those that need a check to take its real time, keep the stated cost.
QUICK_SCRYPT = {"n": 2**10, "r": 8, "p": 1}


@pytest.fixture(scope="session")
def sample_registry():
    return load_registry(SAMPLE_REGISTRY)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The sample registry built once per session (per worker) into its own folder.
    Read-only: a test that changes its site copies this folder (see tests/e2e's `world`)."""
    site_dir = tmp_path_factory.mktemp("built") / "site"
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, site_dir)
    return site_dir


@pytest.fixture
def quick_scrypt(monkeypatch):
    """Accounts hashed and keys locked at `QUICK_SCRYPT`, in this process, for one test.

    The cost is stored with each hash and lock, so whatever checks them later (a server
    subprocess too) checks at that cost; a server in this process also takes it as the
    current cost, so a log-in does not rehash at the stated one."""
    from sync_server.sealing import keyring
    from sync_server.store import accounts

    monkeypatch.setattr(accounts, "SCRYPT", QUICK_SCRYPT)
    monkeypatch.setattr(keyring, "SCRYPT", QUICK_SCRYPT)
    accounts.dummy_hash.cache_clear()  # the unknown-name check costs what a real check costs
    yield QUICK_SCRYPT
    accounts.dummy_hash.cache_clear()


def _run_order(item) -> int:
    """0: `slow` in-process tests, 1: other in-process tests, 2: browser tests."""
    if "/e2e/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("e2e/"):
        return 2
    return 0 if item.get_closest_marker("slow") else 1


def pytest_collection_modifyitems(items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and in-process tests that call `asyncio.run`
    (the intake, kiosk import) would otherwise fail after the first browser test.

    Under xdist (`--dist load`) each worker is sent tests in this order, so each worker
    too runs its browser tests after all its in-process ones. The `slow` fault-injection
    runs (a minute or more each) go first, so that no worker ends the run with one of them
    while the other sits idle. The sort is stable: the rest keep their order."""
    items.sort(key=_run_order)


_browser_tests_began = False


def pytest_runtest_setup(item):
    """Check the order above in every run, serial or on workers: an in-process test sent to
    a worker after its browser tests (a `--dist` mode that reorders, such as worksteal)
    fails at once with this message, not later with an unrelated event-loop error."""
    global _browser_tests_began
    if _run_order(item) == 2:
        _browser_tests_began = True
    elif _browser_tests_began:
        pytest.fail("an in-process test runs after this process's browser tests: run pytest serially or with "
                    "--dist load (see pytest_collection_modifyitems in tests/conftest.py)", pytrace=False)


def pytest_sessionfinish(session):
    """The fork servers some tests start commands from (tests/forkserver.py) end with the run."""
    from tests.forkserver import build_launcher, launcher, quick_cost_launcher

    for each in (launcher, quick_cost_launcher, build_launcher):
        each.close()
