"""Printable A4 posters: one per station, and one page that prints them all.

Standalone HTML (no theme, no scripts) so the print is exactly the sheet: the office
opens `posters/` in a browser and prints, one poster per sheet. The QR code is inlined
as SVG so the poster prints sharp at any size and needs no second request.
"""

from __future__ import annotations

import ipaddress
import re
from html import escape
from urllib.parse import urlsplit

from minqing.registry import Registry, Station

__all__ = ["poster_page", "all_posters_page", "poster_address_problem"]

STYLE = """\
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #111; }
.poster { width: 210mm; height: 297mm; padding: 18mm 16mm; display: flex; flex-direction: column;
  align-items: center; text-align: center; page-break-after: always; break-after: page; overflow: hidden; }
.poster:last-child { page-break-after: auto; break-after: auto; }
.office { font-size: 14pt; letter-spacing: .1em; color: #b71c1c; margin: 0; }
.campaign { font-size: 20pt; margin: 4mm 0 0; }
h1 { font-size: 40pt; margin: 8mm 0 2mm; line-height: 1.2; }
.sector { font-size: 18pt; margin: 0; }
.qr { width: 120mm; height: 120mm; margin: 8mm 0 4mm; }
.qr svg { width: 100%; height: 100%; }
.cta { font-size: 28pt; font-weight: bold; margin: 2mm 0; }
.promise { font-size: 15pt; margin: 2mm 0; line-height: 1.6; }
.id { margin-top: auto; font-size: 11pt; color: #555; font-family: monospace; }
@media screen { body { background: #ddd; } .poster { background: #fff; margin: 8mm auto; box-shadow: 0 1mm 4mm #0003; } }
"""


def poster_address_problem(base_url: str) -> str | None:
    """One sentence when the address the QR codes encode cannot serve citizens, else None."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost" or host.endswith(".localhost")
    if loopback:
        return (f"site.base_url is {base_url}, a loopback address: every poster's QR code would open the "
                "citizen's own phone; set the public HTTPS address before printing.")
    if parts.scheme != "https":
        return (f"site.base_url is {base_url}, not HTTPS: phones would get no offline pages and no service "
                "worker from the posters' QR codes; set the public HTTPS address before printing.")
    return None


def _svg_body(svg: bytes) -> str:
    # Drop the XML declaration so the SVG can sit inline in HTML.
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", svg.decode("utf-8"))


def _poster(registry: Registry, station: Station, svg: bytes) -> str:
    sector = registry.sector(station.sector)
    e = escape
    return (
        '<section class="poster">'
        f'<p class="office">{e(registry.site.office)} · 民情哨</p>'
        '<p class="campaign">十大重点行业领域专项整治——我有话要说</p>'
        f"<h1>{e(station.name)}</h1>"
        f'<p class="sector">{e(sector.name)}领域 · 牵头部门：{e(sector.lead)}</p>'
        f'<div class="qr" role="img" aria-label="{e(registry.station_url(station))}">{_svg_body(svg)}</div>'
        '<p class="cta">扫码说说您的感受和建议</p>'
        # Only what is true for a first-ever scan: opening the page needs a signal (nothing
        # of the site is on the phone yet); once open, the form keeps what is written offline.
        '<p class="promise">可以匿名，不留电话也能提交<br>页面打开后，没有信号也能先填好，有信号时再发送<br>提交后凭回执码查询办理进度</p>'
        f'<p class="id">哨点编号 {e(station.id)} · {e(registry.station_url(station))}</p>'
        "</section>"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def poster_page(registry: Registry, station: Station, svg: bytes) -> str:
    return _document(f"{station.name} · 民情哨海报", _poster(registry, station, svg))


def all_posters_page(registry: Registry, svgs: dict[str, bytes]) -> str:
    active = [s for s in registry.stations if s.active]
    body = "".join(_poster(registry, s, svgs[s.id]) for s in active)
    return _document(f"{registry.site.title} · 全部海报（{len(active)} 张）", body)
