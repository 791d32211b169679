"""Render the generated Markdown pages from the registry.

Pure functions: a `Registry` in, `{docs-relative path: Markdown text}` out. The pages
are never written to `site/docs` and never edited by hand; MkDocs receives them as
generated files (see `mkdocs_hooks`).
"""

from __future__ import annotations

import json
from html import escape

from minqing.registry import Registry, Sector, Station

__all__ = ["render_pages", "station_page", "sector_page", "home_page", "shell_page", "station_list", "SHELL_FIELDS"]

GENERATED = "<!-- Generated from site/stations.yml by build_scripts/pages.py: do not edit. -->\n"

HOW_WE_HANDLE = """\
## 您的意见会怎样处理

1. 提交后您会得到一个**回执码**，可凭回执码在[查询进度]({root}status/)页面查看办理情况。
2. {office}会同本领域分站长和牵头部门（{lead}）及时梳理研判：能立即解决的**立行立改**；
   反复出现的顽瘴痼疾，制定**长效常治**方案。
3. 需要多个部门协同的问题提交**周例会**研究，整改进展在**月例会**上通报。
4. 整改效果好不好，群众说了算。
"""


def _front_matter(**meta: str) -> str:
    # JSON-style quoting keeps any character of a name safe inside YAML.
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"


def _e(text: str) -> str:
    return escape(text, quote=True)


def home_page(registry: Registry) -> str:
    site = registry.site
    rows = []
    for sector in registry.sectors:
        count = sum(1 for s in registry.stations_of(sector.id) if s.active)
        rows.append(f"| [{_e(sector.name)}](sectors/{sector.id}/) | {_e(sector.lead)} | {count} |")
    return (
        _front_matter(title=site.title, description=f"{site.office}民情哨：扫码说说您对专项整治的感受和建议。")
        + GENERATED
        + f"# {_e(site.title)}\n\n"
        "十大重点行业领域专项整治——**我有话要说**。\n\n"
        f"{_e(site.office)}在车站、学校、园区、村庄等地设立民情哨。扫描哨点海报上的二维码，"
        "就能说说您对本领域整治的感受和建议。**匿名提交**；页面打开后，没有信号也能先填好保存在手机上，有信号时再发送。\n\n"
        "已经提交过？凭回执码[查询进度](status/)。\n\n"
        # The 成效 page is the server's (sync_server/public), beside the API.
        f'群众反映的事办得怎么样？看<a href="{_e(site.api_base)}/results/">你说我办 · 成效</a>。\n\n'
        "## 重点行业领域\n\n"
        "| 领域 | 牵头部门 | 民情哨 |\n|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def sector_page(registry: Registry, sector: Sector) -> str:
    active = [s for s in registry.stations_of(sector.id) if s.active]
    retired = [s for s in registry.stations_of(sector.id) if not s.active]
    body = [
        _front_matter(title=f"{sector.name}领域民情哨"),
        GENERATED,
        f"# {_e(sector.name)}领域民情哨\n\n牵头部门：{_e(sector.lead)}\n\n",
    ]
    if active:
        body.append("| 民情哨 | 所在镇（街道） | 位置 |\n|---|---|---|\n")
        body += [f"| [{_e(s.name)}](../../s/{s.id}/) | {_e(s.town)} | {_e(s.place)} |\n" for s in active]
    else:
        body.append("本领域暂无在用的民情哨。\n")
    if retired:
        body.append("\n已撤销的民情哨：" + "、".join(f"[{_e(s.name)}](../../s/{s.id}/)" for s in retired) + "\n")
    return "".join(body)


def station_page(registry: Registry, station: Station, sector: Sector | None = None) -> str:
    sector = sector or registry.sector(station.sector)
    meta = dict(title=station.name, station_id=station.id, station_name=station.name, sector_name=sector.name)
    # A retired post keeps a page that sends what a volunteer's tablet still holds.
    template = "station.html" if station.active else "retired-station.html"
    meta.update(template=template, api_base=registry.site.api_base)
    facts = [
        f"- **领域**：[{_e(sector.name)}](../../sectors/{sector.id}/)（牵头部门：{_e(sector.lead)}）",
        f"- **位置**：{_e(station.town)}" + (f"，{_e(station.place)}" if station.place else ""),
    ]
    if station.chief:
        facts.append(f"- **分站长**：{_e(station.chief)}")
    head = _front_matter(**meta) + GENERATED + f"# {_e(station.name)}\n\n"
    if not station.active:
        return (
            head
            + '!!! warning "本民情哨已撤销"\n\n'
            + f"    此处的民情哨已经撤销，不再收集意见。您可以到[{_e(sector.name)}领域](../../sectors/{sector.id}/)"
            + "的其他民情哨，或回到[首页](../../)选择附近的哨点。已经提交的意见仍会照常办理。\n\n"
            + "\n".join(facts)
            + "\n"
        )
    return (
        head
        + f"{_e(sector.name)}领域专项整治——**我有话要说**。请说说您的感受和建议，**可以匿名**。\n\n"
        + "\n".join(facts)
        + "\n\n<!-- mq:form -->\n\n"
        + HOW_WE_HANDLE.format(root="../../", office=_e(registry.site.office), lead=_e(sector.lead))
    )


# The offline shell: a station page whose facts are placeholders. The service worker
# fills them from `stations.json` to show any station's form without a signal (sw.js).
# Station ids are [a-z0-9-], so `s/_shell/` never collides and sits at a station's depth.
SHELL_PATH = "s/_shell.md"
SHELL_FIELDS = {
    "id": "mq-shell-id", "name": "MQ_SHELL_NAME", "sector": "mq-shell-sector", "sector_name": "MQ_SHELL_SECTOR_NAME",
    "lead": "MQ_SHELL_LEAD", "town": "MQ_SHELL_TOWN", "place": "MQ_SHELL_PLACE",
}


def shell_page(registry: Registry) -> str:
    f = SHELL_FIELDS
    sector = Sector(id=f["sector"], name=f["sector_name"], lead=f["lead"])
    station = Station(id=f["id"], name=f["name"], sector=f["sector"], town=f["town"], place=f["place"], chief="", active=True)
    return station_page(registry, station, sector)


def station_list(registry: Registry) -> str:
    """Every active station's facts the shell shows, as JSON for the service worker."""
    out = {}
    for s in registry.stations:
        if s.active:
            sector = registry.sector(s.sector)
            out[s.id] = {"id": s.id, "name": s.name, "sector": sector.id, "sector_name": sector.name,
                         "lead": sector.lead, "town": s.town, "place": s.place}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


OFFLINE_PAGE = """---
title: 现在没有网络
---
<!-- Generated by build_scripts/pages.py: the service worker's answer for a page it cannot show offline. -->
# 现在没有网络

这个页面还没有保存在您的手机上，现在打不开。

- 有信号时再打开本页就可以了。
- 各个民情哨的意见表离线也能填写：回到[首页]({root})选择民情哨，填好后会先保存在本机，有信号时自动发送。
- 凭回执码[查询进度]({root}status/)需要联网。
"""


def render_pages(registry: Registry) -> dict[str, str]:
    pages = {"index.md": home_page(registry), SHELL_PATH: shell_page(registry), "offline.md": OFFLINE_PAGE.format(root="../")}
    for sector in registry.sectors:
        pages[f"sectors/{sector.id}.md"] = sector_page(registry, sector)
    for station in registry.stations:
        pages[f"s/{station.id}.md"] = station_page(registry, station)
    return pages
