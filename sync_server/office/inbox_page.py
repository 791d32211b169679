"""The inbox list (/office/records): a page of records filtered, searched and paged by
the read side, then opened for this session."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from sync_server.office.pages import full_rows, guarded, local_today, off_loop, readable_scope, render, unlocked_keys
from sync_server.office.records import LIST_STATUSES, Filters, due_soon
from sync_server.office.sealed import sealed_search_note, sealing_notice
from sync_server.store.accounts import in_registry
from sync_server.triage import SATISFACTION, TRACKS

__all__ = ["listed", "record_list"]


def listed(state, account, unlocked, filters: Filters, every: bool):
    """What this account's list shows for `filters`: one page (a `Page`), or every row
    of it (the 明细 export), so the export never shows what the list would not."""
    # Sealed words are searched where they were opened for this session's keys.
    matched = state.opened_words.search(unlocked, account.sees_sector, filters.q) if filters.q else ()
    read = state.readside.rows if every else state.readside.page
    sectors, department = readable_scope(account)
    return read(filters, sectors, state.stations.registry, local_today(), matched, department=department)


@guarded(roles=("staff", "department"))
async def record_list(request: Request, account, session) -> Response:
    state = request.app.state
    registry = state.stations.registry
    today = local_today()
    due_until = today + timedelta(days=registry.dispatch.warn_days)
    filters = Filters.from_query(request.query_params, due_until.isoformat())
    unlocked, words = unlocked_keys(request), state.opened_words
    # Off the event loop: a search over many records must never hold up an upload.
    found = await off_loop(request, listed, state, account, unlocked, filters, False)
    # Only this page's rows are opened: one page costs a few milliseconds of key work.
    rows = await off_loop(request, full_rows, request, account, found.rows)
    # A department's matters come from any sector: it filters by all of them.
    sectors = registry.sectors if account.role == "department" else [s for s in registry.sectors
                                                                       if account.sees_sector(s.id)]
    notices = await off_loop(request, _dispatch_notices, state, account)
    query = {k: v for k, v in request.query_params.items() if k not in ("page", "phone")}
    return render(request, "records.html", {
        "account": account, "session": session, "rows": rows, "filters": filters, "pages": found.pages,
        "page": found.page, "total": found.total,
        "statuses": LIST_STATUSES, "sectors": sectors, "departments": registry.departments, "tracks": TRACKS,
        "dept_names": {d.id: d.name for d in registry.departments},
        "due_soon": {r.id for r in rows if due_soon(r, due_until.isoformat())},
        "query": urlencode(query), "satisfaction": SATISFACTION,
        "stations": registry.stations if account.role == "department" else [
            s for s in registry.stations if account.sees_sector(s.sector)],
        "dispatch_notices": notices,
        "sealing_notice": sealing_notice(state),
        "sealed_search": sealed_search_note(words.progress(unlocked, account.sees_sector,
                                                           state.intake.sealer.sector_of_kid())),
    })


def _dispatch_notices(state, account) -> list[str]:
    """What staff must fix about departments (nothing is dropped: it waits for them),
    and, to a department account its office has not yet mapped, why its list is empty."""
    if account.role == "department":
        return ["您的账号还没有对应到登记册中的部门，暂时看不到交办事项，请联系区扫黑办工作人员。"] \
            if account.department_unmapped or not account.department else []
    if account.role != "staff":
        return []
    notices = []
    unmapped = state.readside.unmapped_leads()
    if unmapped:
        notices.append(f"有 {unmapped} 条早先交办的记录，其牵头部门与登记册中的部门名称对不上，"
                       "请打开这些记录重新交办（改派）给登记册中的部门。")
    registry, accounts = state.stations.registry, state.accounts
    orphaned = state.readside.orphaned({d.id for d in registry.departments})
    if orphaned:
        notices.append(f"有 {orphaned} 条交办事项的承办部门已不在登记册中，没有部门能办理，"
                       "请打开这些记录改派给登记册中的部门。")
    lost = sorted(name for name in accounts.names() if (found := accounts.get(name)) is not None
                  and not found.disabled and in_registry(found, registry).department_unmapped)
    if lost:
        notices.append("以下部门账号没有对应到登记册中的部门，暂时看不到任何交办事项："
                       + "、".join(lost) + "。请用 minqing office set-department 设置其部门。")
    return notices
