"""Department keys from the command line: `keys init` and `keys rotate` make one per
department of the registry, `office add-user --role department --department ID` and
`keys grant` give an account its own department's key only, `keys status` lists them."""

from __future__ import annotations

import pytest

from minqing.registry import load_registry
from sync_server.sealing import envelope
from sync_server.sealing.keyring import Keyring
from tests.conftest import SAMPLE_REGISTRY
from tests.sync_server.cli.test_keys import _capture, _keys, _minqing, sealed_office  # noqa: F401 - fixtures

CLEAR = {"id": "c1", "station_id": "jintan-east-bus", "created_at": "2026-11-28T01:02:03.000Z", "rating": None}


@pytest.fixture(autouse=True)
def _fast(quick_scrypt):
    return quick_scrypt


def test_init_makes_a_key_for_every_department_of_the_registry(sealed_office):  # noqa: F811
    data, code, _ = sealed_office
    wanted = {d.id for d in load_registry(SAMPLE_REGISTRY).departments}
    assert wanted >= {"police", "hrss"}
    assert set(Keyring(data).department_keys()) == wanted
    assert Keyring(data).unlock_recovery(code).department_ids() == wanted


def test_a_department_account_added_by_staff_holds_its_department_key_only(sealed_office):  # noqa: F811
    data, code, _ = sealed_office
    added = _minqing(data, "office", "add-user", "gaj", "--role", "department", "--department", "police", "--sectors", "public-order",
                     "--recovery", "--password-stdin", stdin=f"{code}\ndept-password-1\n")
    assert added.returncode == 0, added.stderr
    unlocked = Keyring(data).unlock("gaj", "dept-password-1")
    assert unlocked.department_ids() == {"police"} and unlocked.keys == {}
    sealed = envelope.seal(CLEAR, "金丝雀", "", None, Keyring(data).public_keys()["transport"])
    assert unlocked.private(sealed["kid"]) is None
    status = _keys(data, "status")
    assert "holder gaj: department police" in status.stdout and "department hrss: current key" in status.stdout


def test_grant_gives_an_existing_department_account_its_department_key(sealed_office):  # noqa: F811
    data, code, _ = sealed_office
    keyring = Keyring(data)
    _minqing(data, "office", "add-user", "gaj", "--role", "department", "--department", "police", "--sectors", "public-order",
             "--recovery", "--password-stdin", stdin=f"{code}\ndept-password-1\n")
    keyring.remove("gaj")  # as an account made before the department keys, given none
    granted = _keys(data, "grant", "gaj", "--recovery", "--password-stdin", stdin=f"{code}\ndept-password-1\n")
    assert granted.returncode == 0, granted.stderr
    assert Keyring(data).unlock("gaj", "dept-password-1").department_ids() == {"police"}


def test_rotate_makes_new_department_keys_and_names_them(sealed_office):  # noqa: F811
    data, _, _ = sealed_office
    before = Keyring(data).department_keys()["police"].kid
    rotated = _keys(data, "rotate")
    assert rotated.returncode == 0 and "department police: new key" in rotated.stdout
    keyring = Keyring(data)
    assert keyring.department_keys()["police"].kid != before and before in keyring.department_of()
