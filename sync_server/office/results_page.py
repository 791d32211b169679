"""The office's 成效 page (/office/results): 办结率, 回访率, 满意率, 不满意 and 重新办理 by
post, sector, lead department and town, for a week, a month or since the start, and a
month-by-month chart of 满意率 and 回访率 (inline SVG drawn on the server, with the same
figures as a text table for screen readers). Staff and viewers count every matter, a
department the matters it sees (`verdict_boards.matters_seen`). Built in the office's
worker thread and kept while nothing it was made from changes (see `report_cache`)."""

from __future__ import annotations

import gzip
from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.pages import guarded, local_today, message_page, off_loop, readable_department
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.records import parse_day, parse_month
from sync_server.office.verdict_boards import matters_seen, month_span, since_start, week_span
from sync_server.office.verdict_figures import DEFINITIONS, Span, count_with_series
from sync_server.office.verdict_tables import verdict_tables

__all__ = ["CHART_MONTHS", "results"]

CHART_MONTHS = 12


def _span(params, today: date) -> Span | None:
    """`span=week&date=2026-11-25`, `span=all`, or a month (`month=2026-11`, this month by default)."""
    kind = params.get("span", "month")
    if kind == "all":
        return since_start(today)
    if kind == "week":
        day = parse_day(params.get("date") or today.isoformat())
        return week_span(day, today) if day else None
    if kind != "month":
        return None
    month = parse_month(params.get("month") or today.strftime("%Y-%m"))
    return month_span(*month, today) if month else None


def _said(span: Span) -> str:
    if span.kind == "week":
        return f"{span.first.isoformat()} 所在周"
    if span.kind == "month":
        return f"{span.first.year} 年 {span.first.month} 月"
    return f"自开始至 {span.last.isoformat()}"


def chart_months(last: date, n: int = CHART_MONTHS) -> list[str]:
    """The `n` months up to and including `last`'s, oldest first (YYYY-MM)."""
    year, month = last.year, last.month
    months = []
    for _ in range(n):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def build_results(readside, registry, department: str | None, span: Span) -> dict:
    (board,), series = count_with_series(matters_seen(readside, department), registry, [span],
                                         chart_months(span.last))
    return {"tables": verdict_tables(board), "total": board.total, "series": series}


@guarded()
async def results(request: Request, account, session) -> Response:
    state = request.app.state
    today = local_today()
    span = _span(request.query_params, today)
    if span is None:
        return message_page(request, account, "日期格式不正确：月份请按 年-月，日期请按 年-月-日 填写 2000 至 2100 年间的日期。", 400)
    department = readable_department(account)

    def build() -> bytes:
        # The version is read before the build reads anything (see report_cache).
        version = (state.readside.version(), state.stations.registry)

        def fresh():
            with no_cyclic_gc():
                return build_results(state.readside, state.stations.registry, department, span), True

        made = state.report_cache.get_or_build(("results", span, department, today), version, fresh)
        return state.templates.get_template("office/results.html").render({
            "request": request, "account": account, "session": session, "span": span, "said": _said(span),
            "today": today, "definitions": DEFINITIONS, **made,
        }).encode("utf-8")

    body = await off_loop(request, build)
    headers = {"Cache-Control": "no-store"}
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 500:
        body, headers = gzip.compress(body, 6), {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
