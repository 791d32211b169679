"""A department account belongs to one registry department: an older account's name,
display name or sectors map it; one that cannot be mapped is flagged, never dropped."""

from __future__ import annotations

import pytest

from sync_server.store.accounts import Account, in_registry
from tests.sync_server.dispatch.world import REGISTRY


def _department(department: str = "", display: str = "", sectors=()) -> Account:
    return Account("li", "department", display, tuple(sectors), department, False)


@pytest.mark.parametrize("account, expected", [
    (_department("market"), "market"),  # an id already
    (_department("区市场监督管理局"), "market"),  # an older account kept the name
    (_department("", "区公安分局"), "police"),  # no department: its display name
    (_department("", "李科长", ["public-order"]), "police"),  # else the one lead of its sectors
])
def test_an_older_department_account_is_mapped_to_its_registry_id(account, expected):
    mapped = in_registry(account, REGISTRY)
    assert (mapped.department, mapped.department_unmapped) == (expected, False)


@pytest.mark.parametrize("account", [
    _department("海关"),  # a name the registry does not have
    _department("", "李科长", ["public-order", "market"]),  # sectors of two leads
    _department("", "李科长"),
])
def test_a_department_account_that_cannot_be_mapped_is_flagged_and_sees_nothing(account):
    mapped = in_registry(account, REGISTRY)
    assert mapped.department == "" and mapped.department_unmapped is True


def test_staff_and_viewers_are_left_as_they_are():
    staff = Account("amy", "staff", "王芳", (), "", False)
    assert in_registry(staff, REGISTRY) is staff
