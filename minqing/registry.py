"""The station registry: parse and validate `site/stations.yml`.

The registry is the only source of station facts. Everything downstream (pages, QR
codes, posters, the sync server's station check) takes a `Registry` from here, so a
mistake in the file is caught once, with the file, the line and one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from minqing import registry_sections as _sections
from minqing.departments import Department, DispatchRules, LetterRules, derived_departments

__all__ = ["DEFAULT_REGISTRY", "Department", "DispatchRules", "LetterRules", "Registry", "RegistryError", "Sector", "Site",
           "Station", "load_registry", "parse_registry"]

# Where the registry lives, relative to the working folder: the one spelling of this path.
DEFAULT_REGISTRY = Path("site/stations.yml")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 48


class RegistryError(ValueError):
    """A problem in the registry file, located at a line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Site:
    title: str
    base_url: str
    office: str
    api_base: str = ""


@dataclass(frozen=True)
class Sector:
    id: str
    name: str
    lead: str


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    sector: str
    town: str
    place: str
    chief: str
    active: bool
    coords: tuple[float, float] | None = None


@dataclass(frozen=True)
class Registry:
    site: Site
    sectors: tuple[Sector, ...]
    stations: tuple[Station, ...]
    departments: tuple[Department, ...] = ()
    dispatch: DispatchRules = field(default_factory=lambda: DispatchRules())
    letters: LetterRules = field(default_factory=lambda: LetterRules())
    _by_id: dict[str, Station] = field(default_factory=dict, compare=False, repr=False)
    _departments: dict[str, Department] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.stations})
        self._departments.update({d.id: d for d in self.departments})

    def station(self, station_id: str) -> Station | None:
        return self._by_id.get(station_id)

    def department(self, department_id: str) -> Department | None:
        return self._departments.get(department_id)

    def department_named(self, name: str) -> Department | None:
        """The department of exactly this name (names are unique), for old name-valued data."""
        return next((d for d in self.departments if d.name == name), None)

    def lead_of(self, sector_id: str) -> Department | None:
        return next((d for d in self.departments if sector_id in d.leads), None)

    def sector(self, sector_id: str) -> Sector:
        return next(s for s in self.sectors if s.id == sector_id)

    def stations_of(self, sector_id: str) -> list[Station]:
        return [s for s in self.stations if s.sector == sector_id]

    def station_path(self, station: Station) -> str:
        """Site-relative URL path of a station's page; QR codes point here."""
        return f"s/{station.id}/"

    def station_url(self, station: Station) -> str:
        return self.site.base_url + self.station_path(station)


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: 5x faster
    """SafeLoader that remembers the line of every mapping and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice in one entry", key_node.start_mark
                )
            seen.add(key)
        mapping = _Located(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


class _Located(dict):
    line: int = 0
    key_lines: dict[str, int]


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(str(path), None, "the registry file does not exist.") from None
    except UnicodeDecodeError:
        raise RegistryError(str(path), None, "the registry file is not valid UTF-8.") from None
    return parse_registry(text, str(path))


def parse_registry(text: str, path: str = "stations.yml") -> Registry:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = (exc.problem or exc.context or "it is not valid YAML").strip()
        raise RegistryError(path, line, f"YAML syntax error: {reason}.") from None
    except yaml.YAMLError as exc:
        raise RegistryError(path, None, f"YAML syntax error: {exc}.") from None
    return _Validator(path).registry(data)


class _Validator:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: Any, problem: str, key: str | None = None) -> None:
        line = None
        if isinstance(node, _Located):
            line = node.key_lines.get(key, node.line) if key else node.line
        raise RegistryError(self.path, line, problem)

    def text(self, node: _Located, key: str, what: str, required: bool = True) -> str:
        value = node.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(node, f"{what} has no '{key}'.")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(node, f"{what}: '{key}' must be text.", key)
        return str(value).strip()

    def slug(self, node: _Located, what: str) -> str:
        value = self.text(node, "id", what)
        if not SLUG.match(value) or len(value) > MAX_SLUG:
            self.fail(
                node,
                f"{what} id '{value}' is not a valid slug "
                f"(use lowercase letters, digits and single hyphens, at most {MAX_SLUG} characters).",
                "id",
            )
        return value

    def registry(self, data: Any) -> Registry:
        if not isinstance(data, _Located):
            raise RegistryError(self.path, None, "the registry must be a mapping with 'site', 'sectors' and 'stations'.")
        for key in ("site", "sectors", "stations"):
            if key not in data:
                self.fail(data, f"the top-level key '{key}' is missing.")
        site = self.site(data["site"])
        with_departments = data.get("departments") is not None
        sectors = self.entries(data, "sectors", lambda node, n: self.sector(node, n, lead_required=not with_departments))
        sector_ids = {s.id for s in sectors}
        stations = self.entries(data, "stations", lambda node, n: self.station(node, n, sector_ids))
        if with_departments:
            departments = self.entries(data, "departments", lambda node, n: self.department(node, n, sector_ids))
            sectors = self.sector_leads(data, sectors, departments)
        else:
            departments = derived_departments(sectors)
        rules = _sections.Sections(self)
        return Registry(site=site, sectors=tuple(sectors), stations=tuple(stations), departments=tuple(departments),
                        dispatch=rules.dispatch(data), letters=rules.letters(data))

    def entries(self, data: _Located, key: str, parse) -> list:
        nodes = data[key]
        if not isinstance(nodes, list) or not nodes:
            self.fail(data, f"'{key}' must be a non-empty list.", key)
        items, seen = [], {}
        for number, node in enumerate(nodes, 1):
            if not isinstance(node, _Located):
                self.fail(data, f"entry {number} of '{key}' must be a mapping with an id and a name.", key)
            item = parse(node, number)
            if item.id in seen:
                self.fail(node, f"the id '{item.id}' is used twice in '{key}' (first at line {seen[item.id]}).", "id")
            seen[item.id] = node.line
            items.append(item)
        return items

    def site(self, node: Any) -> Site:
        if not isinstance(node, _Located):
            raise RegistryError(self.path, None, "'site' must be a mapping with 'title' and 'base_url'.")
        base_url = self.text(node, "base_url", "site")
        if not re.match(r"^https?://[^/\s]+/", base_url + ("/" if base_url.count("/") == 2 else "")):
            self.fail(node, f"site base_url '{base_url}' must be an absolute http(s) URL.", "base_url")
        if not base_url.endswith("/"):
            base_url += "/"
        return Site(
            title=self.text(node, "title", "site"),
            base_url=base_url,
            office=self.text(node, "office", "site", required=False) or "区扫黑办",
            api_base=self.text(node, "api_base", "site", required=False).rstrip("/"),
        )

    def sector(self, node: _Located, number: int, lead_required: bool = True) -> Sector:
        what = f"sector {number}"
        sector_id = self.slug(node, what)
        what = f"sector '{sector_id}'"
        return Sector(id=sector_id, name=self.text(node, "name", what),
                      lead=self.text(node, "lead", what, required=lead_required))

    def department(self, node: _Located, number: int, sector_ids: set[str]) -> Department:
        department_id = self.slug(node, f"department {number}")
        what = f"department '{department_id}'"
        return Department(id=department_id, name=self.text(node, "name", what),
                          leads=self.sector_list(node, "leads", what, sector_ids),
                          helps=self.sector_list(node, "helps", what, sector_ids))

    def sector_list(self, node: _Located, key: str, what: str, sector_ids: set[str]) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(node, f"{what}: '{key}' must be a list of sector ids, like [public-order, rural].", key)
        for sector in value:
            if sector not in sector_ids:
                self.fail(node, f"{what}: '{key}' names the unknown sector '{sector}'.", key)
        if len(set(value)) != len(value):
            self.fail(node, f"{what}: '{key}' names a sector twice.", key)
        return tuple(value)

    def sector_leads(self, data: _Located, sectors: list[Sector], departments: list[Department]) -> list[Sector]:
        """Each sector has exactly one lead department; its `lead` is that department's name."""
        nodes = {str(n.get("id")): n for n in data["departments"] if isinstance(n, _Located)}
        names: dict[str, Department] = {}
        for department in departments:
            if department.name in names:
                self.fail(nodes[department.id], f"department '{department.id}' has the same name as department "
                          f"'{names[department.name].id}': staff pick departments by name.", "name")
            names[department.name] = department
        lead: dict[str, Department] = {}
        for department in departments:
            for sector in department.leads:
                if sector in lead:
                    self.fail(nodes[department.id], f"the sector '{sector}' is led by both '{lead[sector].id}' and "
                              f"'{department.id}': a sector has exactly one lead department.", "leads")
                lead[sector] = department
        sector_nodes = {str(n.get("id")): n for n in data["sectors"] if isinstance(n, _Located)}
        for sector in sectors:
            if sector.id not in lead:
                self.fail(sector_nodes[sector.id], f"sector '{sector.id}' has no lead department: "
                          "list it under 'leads' of one department.")
        return [Sector(id=s.id, name=s.name, lead=lead[s.id].name) for s in sectors]

    def station(self, node: _Located, number: int, sector_ids: set[str]) -> Station:
        station_id = self.slug(node, f"station {number}")
        what = f"station '{station_id}'"
        sector = self.text(node, "sector", what)
        if sector not in sector_ids:
            self.fail(node, f"{what} names the unknown sector '{sector}'.", "sector")
        active = node.get("active")
        if not isinstance(active, bool):
            self.fail(node, f"{what} needs 'active: true' or 'active: false'.", "active" if "active" in node else None)
        return Station(
            id=station_id,
            name=self.text(node, "name", what),
            sector=sector,
            town=self.text(node, "town", what),
            place=self.text(node, "place", what, required=False),
            chief=self.text(node, "chief", what, required=False),
            active=active,
            coords=self.coords(node, what),
        )

    def coords(self, node: _Located, what: str) -> tuple[float, float] | None:
        value = node.get("coords")
        if value is None:
            return None
        try:
            lat, lng = float(value["lat"]), float(value["lng"])
        except (TypeError, KeyError, ValueError):
            self.fail(node, f"{what}: 'coords' must be {{lat: number, lng: number}}.", "coords")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            self.fail(node, f"{what}: 'coords' are out of range.", "coords")
        return (lat, lng)
