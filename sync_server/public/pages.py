"""The public answers: GET /api/public/matters (JSON, for the post page's script) and
GET /results/ (the district 成效 page, server-rendered, no JavaScript needed).

Both may be cached for 5 minutes (by the browser, the service worker, any proxy): a
publication or a withdrawal shows everywhere within that time, without a site rebuild.
Filters are checked, never echoed raw: an unknown post or sector answers an empty list.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from minqing.registry import Registry
from sync_server.public.index import PublicIndex, PublicItem, PublicPage, Rate

__all__ = ["api_routes", "matters", "results_page"]

CACHE = {"Cache-Control": "public, max-age=300"}
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MAX_PAGE = 100_000


def _filters(request: Request) -> tuple[str, str, str, int]:
    query = request.query_params
    station, sector, month = query.get("station", ""), query.get("sector", ""), query.get("month", "")
    station = station if _SLUG.match(station) else ""
    sector = sector if _SLUG.match(sector) else ""
    month = month if _MONTH.match(month) else ""
    try:
        page = min(max(1, int(query.get("page", "1"))), _MAX_PAGE)
    except ValueError:
        page = 1
    return station, sector, month, page


def _names(registry: Registry, item: PublicItem) -> tuple[str, str]:
    station = registry.station(item.station_id)
    sector = next((s.name for s in registry.sectors if s.id == item.sector), "")
    return (station.name if station else ""), sector


def _rate(rate: Rate) -> dict[str, Any]:
    return {"percent": rate.percent, "verdicts": rate.verdicts, "good": rate.good}


def _as_json(registry: Registry, item: PublicItem) -> dict[str, Any]:
    station, sector = _names(registry, item)
    return {"title": item.title, "done": item.done, "month": item.month, "station": item.station_id,
            "station_name": station, "sector": item.sector, "sector_name": sector}


def _index(request: Request) -> PublicIndex | None:
    index = getattr(request.app.state, "public", None)
    return index if index is not None and index.ready() else None


async def matters(request: Request) -> Response:
    station, sector, month, page = _filters(request)
    index, registry = _index(request), request.app.state.stations.registry
    if index is None:  # still reading the log at start: say so, and let nobody cache it
        return JSONResponse({"ok": False, "error": "not_ready", "message": "正在启动，请稍后再试。"}, status_code=503,
                            headers={"Cache-Control": "no-store", "Retry-After": "5"})
    answer: PublicPage = index.page(station, sector, month, page)
    body: dict[str, Any] = {"ok": True, "page": answer.page, "pages": answer.pages, "total": answer.total,
                            "items": [_as_json(registry, item) for item in answer.items]}
    if station:
        body["rate"] = _rate(index.rate(station))
    return _validated(request, JSONResponse(body, headers=CACHE))


def _validated(request: Request, response: Response) -> Response:
    """The answer with an ETag, or an empty 304 when the browser's copy is still the
    answer: the post page asks afresh on every visit (a publication must show at once,
    not after the 5 minutes a copy may be kept), and on a weak signal an unchanged list
    then costs a few header bytes."""
    tag = '"' + hashlib.sha256(response.body).hexdigest()[:20] + '"'
    if tag in (t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers={**CACHE, "ETag": tag})
    response.headers["ETag"] = tag
    return response


async def results_page(request: Request) -> Response:
    station, sector, month, page = _filters(request)
    index, registry = _index(request), request.app.state.stations.registry
    answer = index.page(station, sector, month, page) if index is not None else PublicPage([], 0, 1, 1)
    rows = [(item, *_names(registry, item)) for item in answer.items]
    chosen = registry.station(station) if station else None
    links = {name: value for name, value in (("station", station), ("sector", sector), ("month", month)) if value}
    context = {
        "rows": rows, "page": answer, "station": station, "sector": sector, "month": month, "links": links,
        "stations": [s for s in registry.stations if s.active or s.id == station], "sectors": registry.sectors,
        "months": index.months() if index is not None else [], "chosen": chosen,
        "rate": index.rate(station) if index is not None and station else None,
        "site_title": registry.site.title, "starting": index is None,
    }
    headers = CACHE if index is not None else {"Cache-Control": "no-store"}
    return request.app.state.templates.TemplateResponse(request, "results.html", context, headers=headers)


api_routes = [Route("/public/matters", matters, methods=["GET", "HEAD"])]
