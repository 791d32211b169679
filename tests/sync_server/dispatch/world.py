"""A small registry and accounts for the dispatch tests: two sectors, three departments."""

from __future__ import annotations

from datetime import datetime, timezone

from minqing.registry import parse_registry
from sync_server.store.accounts import Account
from sync_server.triage import apply, new_entry

REGISTRY = parse_registry("""\
site: {title: 测试, base_url: "https://example.org/"}
sectors:
  - {id: public-order, name: 社会治安}
  - {id: market, name: 市场流通}
stations:
  - {id: park, name: 工业园区, sector: public-order, town: 儒林镇, active: true}
departments:
  - {id: police, name: 区公安分局, leads: [public-order]}
  - {id: market, name: 区市场监督管理局, leads: [market]}
  - {id: urban, name: 区城市管理局, helps: [market]}
""")
# Wednesday 2026-11-25, 10:00 in the district.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
STAFF = Account("amy", "staff", "王芳", (), "", False)
POLICE = Account("police", "department", "公安张警官", (), "police", False)
MARKET = Account("market", "department", "市场李科长", (), "market", False)
URBAN = Account("urban", "department", "城管赵主任", (), "urban", False)


def act(entry, action, account=STAFF, now=NOW, **fields):
    return apply(entry, action, fields, account.name, now, account=account, registry=REGISTRY)


def dispatched(department="market", **fields):
    entry = act(new_entry("2026-11-20T01:00:00+00:00"), "accept")
    return act(entry, "assign", department=department, track="immediate", **fields)
