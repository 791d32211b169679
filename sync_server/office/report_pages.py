"""The meeting reports (/office/reports): the weekly pack and the monthly report, as a
page or a CSV or XLSX download, built in the office's worker thread and kept while
nothing they were made from changes (see `report_cache`)."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.department_figures import Period, period_figures, period_figures_alone
from sync_server.office.department_tables import monthly_tables, weekly_tables
from sync_server.office.pages import guarded, local_today, message_page, off_loop, readable_scope, render, unlocked_keys
from sync_server.office.readside import no_cyclic_gc
from sync_server.office.records import CHINA, parse_day, parse_month
from sync_server.office.reports import COLUMN_CLASSES, monthly, needs_words, to_csv, to_xlsx, weekly
from sync_server.office.sealed import opened_rows, sealing_notice
from sync_server.office.spreadsheet import content_disposition
from sync_server.office.verdict_boards import monthly_verdict_tables, weekly_verdict_tables

__all__ = ["report", "report_index"]


@guarded()
async def report_index(request: Request, account, session) -> Response:
    today = local_today()
    return render(request, "reports.html", {"account": account, "session": session, "today": today.isoformat(),
                                            "month": today.strftime("%Y-%m"),
                                            "sealing_notice": sealing_notice(request.app.state)})


def _report_rows(request: Request, account, rows: list, with_phone: bool, read: list) -> list:
    """The rows a report lists, with what the read side does not hold: sealed words
    opened for this session, and consented phones when asked for. Only these rows are
    read from disk, and of them only those that need it (most records have no phone).
    Appends to `read` the ids it read: such a report is this session's alone."""
    state = request.app.state
    # A sealed record's summary in the read side has no words and no phone: read it for
    # its words (no summary written) or, when phones are asked for, for its sealed phone.
    wanted = [r.id for r in rows if needs_words(r) or (with_phone and (
        state.readside.may_have_phone(r.id) or not (r.record.get("feeling") or r.record.get("suggestion"))))]
    full = state.inbox.get_many(wanted) if wanted else {}
    read.extend(full)
    rows = [dataclasses.replace(r, record={**r.record, **full[r.id]}) if r.id in full else r for r in rows]
    return opened_rows(state, account, unlocked_keys(request), rows, with_phone)


def _compressed(body: bytes, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """Compress here, in the worker thread: the gzip middleware would do it on the event loop."""
    if "gzip" in accept_encoding and len(body) > 500:
        return gzip.compress(body, 6), {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return body, {}


# The line a department account reads when its department is not known (an old account
# not yet mapped): no department has this id, and it is never the line of matters
# without a department.
NO_LINE = "?"


def figures_scope(account) -> str | None:
    """Whose line of the 考核 tables an account reads: a department its own, others all."""
    if account.role != "department":
        return None
    return account.department or NO_LINE


def _build_report(state, kind: str, scope, when, with_phone: bool, fmt: str, today: date, prepare=None,
                  only: str | None = None):
    """`scope`: (sectors, department) as `pages.readable_scope` gives them; `only`: the
    line of the 考核 tables the reader reads (`figures_scope`)."""
    registry = state.stations.registry
    sectors, department = scope
    now = datetime.now(CHINA)
    if kind == "weekly":
        start = when - timedelta(days=when.weekday())
        sets = state.readside.report_sets(sectors, start, start + timedelta(days=6), registry, today,
                                          department=department)
        # The meeting pack quotes the words: `prepare` opens the sealed ones it lists.
        built = weekly(sets, when, with_phone=with_phone, today=today, prepare=prepare)
        # The figures rank every department: read over every sector, shown as `only` allows.
        current = period_figures_alone(state.readside, registry, Period.week(when, today), today, now)
        built.tables += weekly_tables(current, registry, only)
        built.tables += weekly_verdict_tables(state.readside, registry, department, when, today)
        name, ascii_name = f"周例会材料-{start.isoformat()}", f"weekly-{start.isoformat()}"
    else:
        year, month = when
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        built = monthly(state.readside.report_sets(sectors, first, last, registry, today, department=department),
                        year, month)
        built.tables += monthly_tables(*period_figures(state.readside, registry, Period.month(year, month, today), today,
                                                       now), registry, only)
        built.tables += monthly_verdict_tables(state.readside, registry, department, year, month, today)
        name, ascii_name = f"月例会报告-{year}-{month:02d}", f"monthly-{year}-{month:02d}"
    if fmt == "csv":
        return built, to_csv(built), name + ".csv", ascii_name + ".csv"
    if fmt == "xlsx":
        return built, to_xlsx(built), name + ".xlsx", ascii_name + ".xlsx"
    return built, b"", None, None


@guarded()
async def report(request: Request, account, session) -> Response:
    state = request.app.state
    kind = request.path_params["kind"]
    if kind not in ("weekly", "monthly"):
        return message_page(request, account, "没有这种报表。", 404)
    params = request.query_params
    fmt = params.get("format", "html")
    if fmt not in ("html", "csv", "xlsx"):
        return message_page(request, account, "没有这种报表格式。", 400)
    with_phone = params.get("phone") == "1" and account.role == "staff"
    if kind == "weekly":
        when = parse_day(params.get("date") or local_today().isoformat())
    else:
        when = parse_month(params.get("month") or local_today().strftime("%Y-%m"))
    if when is None:
        return message_page(request, account, "日期格式不正确，请按 年-月-日（月报为 年-月）填写 2000 至 2100 年间的日期。", 400)
    accept = request.headers.get("accept-encoding", "")
    query = urlencode({k: v for k, v in params.items() if k != "format"})

    def build() -> tuple[bytes, dict[str, str], str | None, str | None]:
        # Reports, spreadsheets, the page around them and their compression are CPU
        # work: all in the office's worker thread, never on the event loop.
        read: list[str] = []
        today = local_today()

        def fresh():
            with no_cyclic_gc():  # tens of thousands of small objects made at once
                made = _build_report(state, kind, readable_scope(account), when, with_phone, fmt, today,
                                     lambda rows: _report_rows(request, account, rows, with_phone, read),
                                     figures_scope(account))
            return made, not with_phone and not read

        if with_phone:
            # Phones are never kept, nor answered from what was kept for a plain request.
            built, body, name, ascii_name = fresh()[0]
        else:
            # The version is read before the build reads anything (see report_cache).
            version = (state.readside.version(), state.stations.registry)
            built, body, name, ascii_name = state.report_cache.get_or_build(
                (kind, when, fmt, readable_scope(account), figures_scope(account), today, with_phone), version, fresh)
        if fmt == "html":
            body = state.templates.get_template("office/report.html").render({
                "request": request, "account": account, "session": session, "report": built,
                "column_classes": COLUMN_CLASSES, "kind": kind, "query": query}).encode("utf-8")
        if fmt == "xlsx":  # already a zip
            return body, {}, name, ascii_name
        return *_compressed(body, accept), name, ascii_name

    body, encoding, name, ascii_name = await off_loop(request, build)
    headers = {"Cache-Control": "no-store", **encoding}
    if fmt == "html":
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
    headers["Content-Disposition"] = content_disposition(name, ascii_name)
    return Response(body, media_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX, headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
