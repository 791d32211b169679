"""The office's 考核 page (/office/ratings): the figures per department and town for a
month or a week, the ranking with its chart (inline SVG drawn on the server), and each
table's definitions; as a page, CSV or XLSX. Staff and viewers read every line; a
department account its own line and the ranking. Built in the office's worker thread
and kept while nothing it was made from changes (see `report_cache`)."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.department_figures import Period, period_figures
from sync_server.office.department_tables import monthly_tables, score_bars
from sync_server.office.pages import guarded, local_today, message_page, off_loop
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.records import CHINA, parse_day, parse_month
from sync_server.office.report_pages import XLSX, figures_scope
from sync_server.office.reports import COLUMN_CLASSES, Report, to_csv, to_xlsx
from sync_server.office.spreadsheet import content_disposition

__all__ = ["ratings"]


def _period(params, today: date) -> Period | None:
    """The month asked for (`month=2026-11`), the week of a day (`week=2026-11-25`), or this month."""
    if "week" in params:
        day = parse_day(params["week"])
        return Period.week(day, today) if day else None
    month = parse_month(params.get("month") or today.strftime("%Y-%m"))
    return Period.month(*month, today) if month else None


def _title(period: Period) -> tuple[str, str, str]:
    """The period as the page says it, the word its tables use, and a file name's tail."""
    if period.kind == "week":
        return f"{period.first.isoformat()} 至 {period.last.isoformat()}", "本周", f"week-{period.first.isoformat()}"
    return f"{period.first.year} 年 {period.first.month} 月", "本月", period.first.strftime("%Y-%m")


def build_ratings(state, period: Period, only: str | None, today: date, now: datetime) -> tuple[Report, list]:
    registry = state.stations.registry
    current, previous = period_figures(state.readside, registry, period, today, now)
    said, word, _ = _title(period)
    tables = monthly_tables(current, previous, registry, only, word=word)
    return Report("承办单位考核", said, tables), score_bars(registry, current, previous)


@guarded()
async def ratings(request: Request, account, session) -> Response:
    state = request.app.state
    params = request.query_params
    fmt = params.get("format", "html")
    if fmt not in ("html", "csv", "xlsx"):
        return message_page(request, account, "没有这种格式。", 400)
    today = local_today()
    period = _period(params, today)
    if period is None:
        return message_page(request, account, "日期格式不正确：月份请按 年-月，周请按 年-月-日 填写 2000 至 2100 年间的日期。", 400)
    only = figures_scope(account)
    said, _, tail = _title(period)
    query = urlencode({k: v for k, v in params.items() if k != "format"})

    def build() -> bytes:
        # The version is read before the build reads anything (see report_cache).
        version = (state.readside.version(), state.stations.registry)

        def fresh():
            with no_cyclic_gc():
                report, bars = build_ratings(state, period, only, today, datetime.now(CHINA))
            body = to_csv(report) if fmt == "csv" else to_xlsx(report) if fmt == "xlsx" else b""
            return (report, bars, body), True  # no words, no phones: always shareable

        report, bars, body = state.report_cache.get_or_build(("ratings", period, fmt, only, today), version, fresh)
        if fmt != "html":
            return body
        return state.templates.get_template("office/ratings.html").render({
            "request": request, "account": account, "session": session, "report": report, "bars": bars,
            "column_classes": COLUMN_CLASSES, "query": query, "period": period, "today": today,
        }).encode("utf-8")

    body = await off_loop(request, build)
    headers = {"Cache-Control": "no-store"}
    if fmt == "html":
        if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 500:
            body, headers = gzip.compress(body, 6), {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
    headers["Content-Disposition"] = content_disposition(f"承办单位考核-{tail}.{fmt}", f"ratings-{tail}.{fmt}")
    return Response(body, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX, headers=headers)
