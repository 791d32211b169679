"""The registry: the sample data is what the article describes, and mistakes are named."""

from __future__ import annotations

import pytest

from minqing.registry import RegistryError, parse_registry

GOOD = """\
site:
  title: 测试民情哨
  base_url: https://example.org/mq
sectors:
  - {id: transport, name: 交通运输, lead: 区交通运输局}
stations:
  - id: east-bus
    name: 汽车东站
    sector: transport
    town: 东城街道
    active: true
"""


def test_sample_registry_has_the_25_posts_and_ten_sectors(sample_registry):
    assert len(sample_registry.stations) == 25
    assert [s.name for s in sample_registry.sectors] == [
        "社会治安", "乡村治理", "金融放贷", "工程建设", "交通运输",
        "市场流通", "资源环保", "信息网络", "文化旅游", "教育卫生",
    ]


@pytest.mark.parametrize(
    "name, sector",
    [("金坛汽车东站", "交通运输"), ("金坛区河滨小学", "教育卫生"), ("儒林镇工业园区", "社会治安"), ("儒林镇柚山村", "乡村治理")],
)
def test_sample_registry_holds_the_posts_the_article_names(sample_registry, name, sector):
    station = next(s for s in sample_registry.stations if s.name == name)
    assert sample_registry.sector(station.sector).name == sector
    assert station.active


def test_sample_stations_span_the_districts_nine_towns_and_streets(sample_registry):
    assert len({s.town for s in sample_registry.stations}) == 9


def test_base_url_gets_a_trailing_slash_and_station_urls_derive_from_it():
    registry = parse_registry(GOOD)
    station = registry.station("east-bus")
    assert registry.station_url(station) == "https://example.org/mq/s/east-bus/"


def _error(text: str) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "stations.yml")
    return info.value


def test_duplicate_station_id_is_named_with_its_line():
    text = GOOD + "  - {id: east-bus, name: 又一个, sector: transport, town: 东城街道, active: true}\n"
    error = _error(text)
    assert error.line == 12
    assert str(error) == "stations.yml, line 12: the id 'east-bus' is used twice in 'stations' (first at line 7)."


def test_unknown_sector_is_named_with_its_line():
    error = _error(GOOD.replace("sector: transport", "sector: shipping"))
    assert (error.line, error.problem) == (9, "station 'east-bus' names the unknown sector 'shipping'.")


def test_bad_slug_is_named_with_its_line():
    error = _error(GOOD.replace("id: east-bus", "id: East_Bus"))
    assert error.line == 7
    assert "station 1 id 'East_Bus' is not a valid slug" in error.problem


def test_missing_name_is_named_with_its_line():
    error = _error(GOOD.replace("    name: 汽车东站\n", ""))
    assert (error.line, error.problem) == (7, "station 'east-bus' has no 'name'.")


def test_yaml_syntax_error_is_named_with_its_line():
    error = _error(GOOD.replace("town: 东城街道", "town: [东城街道"))
    assert error.line is not None and error.line >= 10
    assert error.problem.startswith("YAML syntax error")


def test_missing_active_flag_is_refused():
    error = _error(GOOD.replace("    active: true\n", ""))
    assert error.problem == "station 'east-bus' needs 'active: true' or 'active: false'."


def test_duplicate_yaml_key_is_refused():
    error = _error(GOOD.replace("    active: true\n", "    active: true\n    active: false\n"))
    assert "appears twice" in error.problem


def test_base_url_must_be_absolute():
    error = _error(GOOD.replace("https://example.org/mq", "example.org"))
    assert error.line == 3 and "absolute http(s) URL" in error.problem
