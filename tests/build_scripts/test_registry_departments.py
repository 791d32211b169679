"""The registry's departments, dispatch rules and letter rules: defaults when absent,
each mistake named with its line."""

from __future__ import annotations

import pytest

from minqing.registry import RegistryError, parse_registry

BASE = """\
site:
  title: 测试民情哨
  base_url: https://example.org/mq
sectors:
  - {id: transport, name: 交通运输}
  - {id: market, name: 市场流通}
stations:
  - {id: east-bus, name: 汽车东站, sector: transport, town: 东城街道, active: true}
"""
DEPARTMENTS = """\
departments:
  - {id: transport, name: 区交通运输局, leads: [transport], helps: [market]}
  - {id: market, name: 区市场监督管理局, leads: [market]}
  - {id: urban, name: 区城市管理局, helps: [market, transport]}
"""


def _error(text: str) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "stations.yml")
    return info.value


def test_sample_registry_has_twelve_departments_one_lead_per_sector(sample_registry):
    assert len(sample_registry.departments) == 12
    assert all(sample_registry.lead_of(s.id) is not None for s in sample_registry.sectors)
    assert {d.id for d in sample_registry.departments if not d.leads} == {"hrss", "urban"}
    # The sector's `lead` (posters, pages) is its lead department's name.
    assert sample_registry.sector("education-health").lead == "区教育局" == sample_registry.lead_of("education-health").name


def test_departments_are_found_by_id_and_sector_and_name():
    registry = parse_registry(BASE + DEPARTMENTS)
    assert registry.department("urban").helps == ("market", "transport")
    assert registry.department("nobody") is None
    assert registry.lead_of("market").id == "market"
    assert registry.department_named("区交通运输局").id == "transport"
    assert registry.sector("market").lead == "区市场监督管理局"


def test_without_departments_each_distinct_lead_name_becomes_one_in_order():
    text = BASE.replace("{id: transport, name: 交通运输}", "{id: transport, name: 交通运输, lead: 区交通运输局}").replace(
        "{id: market, name: 市场流通}", "{id: market, name: 市场流通, lead: 区交通运输局}")
    registry = parse_registry(text)
    assert [(d.id, d.name, d.leads) for d in registry.departments] == [("dept-1", "区交通运输局", ("transport", "market"))]


def test_without_departments_a_sector_still_needs_its_lead():
    assert "has no 'lead'" in _error(BASE).problem


def test_dispatch_and_letters_take_their_defaults_when_absent():
    registry = parse_registry(BASE + DEPARTMENTS)
    assert (registry.dispatch.sign_within_working_days, registry.dispatch.warn_days, registry.dispatch.undo_minutes) == (1, 3, 10)
    assert registry.dispatch.deadline_days == {"immediate": 7, "long_term": 90}
    assert registry.letters.letter_number.format(year=2026, n=3) == "金扫黑办函〔2026〕3号"
    assert registry.letters.answer_days == 15


def test_dispatch_and_letters_given_are_read():
    text = BASE + DEPARTMENTS + """\
dispatch:
  sign_within_working_days: 2
  deadline_days: {immediate: 5}
letters:
  issuer: 某区扫黑办
  letter_number: "某扫函〔{year}〕{n}号"
"""
    registry = parse_registry(text)
    assert registry.dispatch.sign_within_working_days == 2
    assert registry.dispatch.deadline_days == {"immediate": 5, "long_term": 90}
    assert registry.letters.issuer == "某区扫黑办" and registry.letters.letter_number == "某扫函〔{year}〕{n}号"


@pytest.mark.parametrize("change, line, words", [
    ("leads: [market]}", 11, "led by both 'transport' and 'market'"),  # market leads transport too
    ("helps: [market, transport]}", 12, "names the unknown sector 'shops'"),
])
def test_department_mistakes_are_named_with_their_line(change, line, words):
    replacement = {"leads: [market]}": "leads: [market, transport]}",
                   "helps: [market, transport]}": "helps: [shops]}"}[change]
    error = _error(BASE + DEPARTMENTS.replace(change, replacement))
    assert error.line == line and words in error.problem


def test_a_sector_no_department_leads_is_named():
    error = _error(BASE + DEPARTMENTS.replace("leads: [market]", "helps: []"))
    assert error.line == 6 and "sector 'market' has no lead department" in error.problem


def test_two_departments_of_one_name_are_refused():
    error = _error(BASE + DEPARTMENTS.replace("区城市管理局", "区市场监督管理局"))
    assert error.line == 12 and "same name" in error.problem


def test_a_department_id_used_twice_is_refused():
    error = _error(BASE + DEPARTMENTS.replace("id: urban", "id: market"))
    assert error.line == 12 and "used twice in 'departments'" in error.problem


@pytest.mark.parametrize("section, words", [
    ("dispatch:\n  warn_days: -1\n", "'warn_days' must be a whole number"),
    ("dispatch:\n  deadline_days: {someday: 3}\n", "unknown track 'someday'"),
    ("dispatch:\n  sign_within_working_days: 0\n", "'sign_within_working_days' must be a whole number from 1"),
    ("letters:\n  letter_number: \"函〔{year}〕\"\n", "must hold {n}"),
    ("letters:\n  letter_number: \"函{x}〔{n}〕\"\n", "must hold {n}"),
    ("dispatch: 3\n", "'dispatch' must be a mapping"),
])
def test_rule_mistakes_are_named_with_their_line(section, words):
    text = BASE + DEPARTMENTS
    error = _error(text + section)
    assert words in error.problem and error.line == text.count("\n") + (1 if section.startswith("dispatch: ") else 2)
