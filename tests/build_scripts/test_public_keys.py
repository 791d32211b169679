"""keys.json: only the sectors' public keys, one per station, and none without `keys init`."""

from __future__ import annotations

import json

import pytest

from build_scripts.public_keys import load_public_keys, render_keys_json
from build_scripts.publish import build_site
from minqing.registry import RegistryError
from sync_server.sealing.keyring import Keyring
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY


@pytest.fixture
def keyring(tmp_path):
    keyring = Keyring(tmp_path / "data")
    keyring.init(["transport", "public-order"])
    return keyring


def test_without_keys_the_site_publishes_none(sample_registry):
    assert json.loads(render_keys_json(sample_registry, load_public_keys(None))) == {"v": 1, "keys": {}, "stations": {}}


def test_every_station_of_a_keyed_sector_points_at_its_sectors_current_key(sample_registry, keyring):
    keys = json.loads(render_keys_json(sample_registry, load_public_keys(keyring.public_path)))
    public = keyring.public_keys()
    for station in sample_registry.stations:
        if station.sector in public:
            assert keys["stations"][station.id] == public[station.sector].kid
            assert keys["keys"][public[station.sector].kid]["sector"] == station.sector
        else:
            assert station.id not in keys["stations"]


def test_a_rotation_publishes_the_new_key_only(sample_registry, keyring):
    old = keyring.public_keys()["transport"].kid
    keyring.rotate(["transport"])
    keys = json.loads(render_keys_json(sample_registry, load_public_keys(keyring.public_path)))
    assert old not in keys["keys"] and keyring.public_keys()["transport"].kid in keys["keys"]


@pytest.mark.parametrize("content", [
    "not json", '{"v": 2, "sectors": {}}', '{"v": 1, "sectors": {"x": {"kid": "0123456789abcdef", "key": "AAAA"}}}',
    '{"v": 1, "sectors": {"x": {"kid": "a", "key": "b", "d": "private!"}}}', "[]",
])
def test_a_file_that_is_not_a_public_key_file_fails_the_build(tmp_path, content):
    path = tmp_path / "public.json"
    path.write_text(content)
    with pytest.raises(RegistryError, match="public-key file"):
        load_public_keys(path)


def test_a_built_site_carries_keys_json_and_rebuilds_byte_identical(tmp_path, keyring):
    site = tmp_path / "site"
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, site, keyring.public_path)
    first = (site / "keys.json").read_bytes()
    assert keyring.public_keys()["transport"].kid in first.decode()
    report = build_site(MKDOCS_YML, SAMPLE_REGISTRY, site, keyring.public_path)
    assert (site / "keys.json").read_bytes() == first and "keys.json" not in report.written
    build_site(MKDOCS_YML, SAMPLE_REGISTRY, site)
    assert json.loads((site / "keys.json").read_bytes())["keys"] == {}
