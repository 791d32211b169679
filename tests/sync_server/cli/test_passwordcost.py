"""The test-only quick password cost reaches the suite's own subprocesses and nothing else."""

from __future__ import annotations

import pytest

from sync_server.cli.passwordcost import QUICK_FOR_TESTS, take_test_cost
from sync_server.sealing import keyring
from sync_server.store import accounts
from tests.conftest import QUICK_SCRYPT

STATED = {"n": 2**17, "r": 8, "p": 1}


@pytest.fixture
def stated_cost(monkeypatch):
    monkeypatch.setattr(accounts, "SCRYPT", STATED)
    monkeypatch.setattr(keyring, "SCRYPT", STATED)
    yield
    accounts.dummy_hash.cache_clear()


@pytest.mark.parametrize("environ", [
    {"MINQING_TEST_QUICK_SCRYPT": "1"},  # a unit file copied from a test: not pytest
    {"PYTEST_CURRENT_TEST": "t.py::test (call)"},  # pytest, but not asked
    {"MINQING_TEST_QUICK_SCRYPT": "yes", "PYTEST_CURRENT_TEST": "t.py::test (call)"},
    {"MINQING_TEST_QUICK_SCRYPT": "1", "PYTEST_CURRENT_TEST": ""},
], ids=["variable-alone", "pytest-alone", "other-value", "empty-pytest"])
def test_the_stated_cost_stays_unless_pytest_runs_the_command_and_asks(stated_cost, environ):
    assert take_test_cost("office", environ) is False
    assert accounts.SCRYPT == keyring.SCRYPT == STATED


def test_a_server_never_takes_the_quick_cost(stated_cost):
    assert take_test_cost("serve", {"MINQING_TEST_QUICK_SCRYPT": "1", "PYTEST_CURRENT_TEST": "x"}) is False
    assert accounts.SCRYPT == STATED


def test_the_suites_subprocesses_get_the_suites_quick_cost_and_are_told(stated_cost, capsys):
    assert take_test_cost("office", {"MINQING_TEST_QUICK_SCRYPT": "1", "PYTEST_CURRENT_TEST": "x"}) is True
    assert accounts.SCRYPT == keyring.SCRYPT == QUICK_FOR_TESTS == QUICK_SCRYPT
    assert "test-only" in capsys.readouterr().err
