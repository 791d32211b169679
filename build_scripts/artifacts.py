"""Everything the registry generates, as one mapping of docs-relative path to content."""

from __future__ import annotations

from collections.abc import Callable

from build_scripts.pages import render_pages, station_list
from build_scripts.posters import all_posters_page, poster_page
from build_scripts.qr import cjk_font, qr_images
from minqing.registry import Registry

__all__ = ["render_artifacts"]


def render_artifacts(
    registry: Registry, qr: Callable[..., tuple[bytes, bytes]] = qr_images
) -> dict[str, str | bytes]:
    out: dict[str, str | bytes] = dict(render_pages(registry))
    out["stations.json"] = station_list(registry)
    svgs: dict[str, bytes] = {}
    for station in registry.stations:
        if not station.active:
            continue
        url = registry.station_url(station)
        label = (station.name, f"{registry.sector(station.sector).name}领域  民情哨")
        svgs[station.id], out[f"qr/{station.id}.png"] = qr(url, label, cjk_font())
        out[f"qr/{station.id}.svg"] = svgs[station.id]
        out[f"posters/{station.id}.html"] = poster_page(registry, station, svgs[station.id])
    out["posters/index.html"] = all_posters_page(registry, svgs)
    return out
