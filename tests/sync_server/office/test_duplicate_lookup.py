"""可能重复 on a record's page: candidates of the same post or sector within the window,
only records the account's list shows, sealed words only where this session opened
them, and 合并 from a suggestion through the usual confirm step."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from minqing.registry import load_registry
from sync_server.office.duplicate_lookup import hints_for
from sync_server.office.readside_index import MemoryReadSide
from sync_server.store.accounts import Account
from tests.conftest import SAMPLE_REGISTRY
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, dispatch, login, seed, status_of
from tests.sync_server.office.test_sealed import CANARY, canary, sealed_office  # noqa: F401

office = test_office.office  # the same small office world
WORDS = "路口积水严重，下雨天孩子过不去，希望尽快处理"


def _hints(page: str) -> list[str]:
    table = re.search(r"<table data-hints>(.*?)</table>", page, re.S)
    return re.findall(r'href="/office/records/[^"]+">([^<]+)</a>', table.group(1)) if table else []


def test_the_same_words_from_one_post_a_minute_apart_are_suggested_with_a_merge(office):
    first = seed(office, feeling=WORDS, suggestion="")
    second = seed(office, feeling=WORDS + "。", suggestion="")
    seed(office, feeling="夜市噪音扰民，影响休息", suggestion="")
    login(office, "amy")
    page = office.get(f"/office/records/{second['id']}").text
    assert _hints(page) == [first["receipt"]]
    assert "Dice 系数" in page and "前后 7 天" in page and "100%" in page and "同一民情哨" in page
    form = re.search(r'<form method="post" action="(/office/records/[^"]+/action)">(?:(?!</form>).)*?name="into" '
                     r'value="([^"]+)"', page, re.S)
    assert form.group(1) == f"/office/records/{second['id']}/action" and form.group(2) == first["receipt"]
    # The suggestion's merge goes through the confirm step, like a receipt typed by hand.
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    asked = office.post(form.group(1), data={"csrf": token, "action": "merge", "into": form.group(2)})
    assert "确认合并到回执码" in asked.text and status_of(office, second["id"]) == "已收到"
    act(office, second["id"], "merge", into=first["receipt"])
    assert status_of(office, second["id"]) == "已合并"
    assert _hints(office.get(f"/office/records/{first['id']}").text) == []  # merged here: no longer suggested


def test_unrelated_words_are_not_suggested(office):
    seed(office, feeling="夜市噪音扰民，影响休息", suggestion="")
    record = seed(office, feeling=WORDS, suggestion="")
    login(office, "amy")
    page = office.get(f"/office/records/{record['id']}").text
    assert _hints(page) == [] and "没有发现可能重复的记录" in page


def test_a_department_sees_suggestions_without_a_merge(office):
    first = seed(office, feeling=WORDS, suggestion="")
    second = seed(office, feeling=WORDS, suggestion="")
    for record in (first, second):  # a department sees the matters dispatched to it
        dispatch(office, record["id"], "education")
    login(office, "edu")
    page = office.get(f"/office/records/{second['id']}").text
    assert _hints(page) == [first["receipt"]] and 'name="into"' not in page


def _record(station: str, words: str, received: datetime) -> dict:
    rid = str(uuid.uuid4())
    at = received.isoformat(timespec="seconds")
    return {"id": rid, "station_id": station, "received_at": at, "created_at": at, "rating": None, "feeling": words,
            "suggestion": "", "phone": None, "consent": False, "receipt": rid[:9].upper(), "flags": []}


def _world(records):
    registry = load_registry(SAMPLE_REGISTRY)
    opened = SimpleNamespace(words_of=lambda unlocked, sees, ids: {})
    return SimpleNamespace(readside=MemoryReadSide(records, {}), stations=SimpleNamespace(registry=registry),
                           opened_words=opened)


def _account(role: str, sectors=()):
    return Account(name="x", role=role, display="x", sectors=tuple(sectors), department="", disabled=False)


def test_candidates_are_the_same_sector_within_seven_days_either_side():
    day = datetime(2026, 12, 7, 2, tzinfo=timezone.utc)
    me = _record("hebin-primary", WORDS, day)
    sector_mate = _record("zhixi-middle-school", WORDS, day - timedelta(days=6))  # education-health too
    later = _record("hebin-primary", WORDS, day + timedelta(days=7))
    too_old = _record("hebin-primary", WORDS, day - timedelta(days=8))
    other_sector = _record("rulin-industrial-park", WORDS, day)
    state = _world([me, sector_mate, later, too_old, other_sector])
    row = state.readside.row(me["id"], state.stations.registry, date(2026, 12, 20))
    found = [h.row.id for h in hints_for(state, _account("staff"), None, row)]
    assert found == [later["id"], sector_mate["id"]]  # the same post first at equal scores
    assert hints_for(state, _account("department", ["public-order"]), None, row) == []


def test_sealed_records_are_compared_only_on_words_this_session_opened():
    day = datetime(2026, 12, 7, 2, tzinfo=timezone.utc)
    me = _record("hebin-primary", WORDS, day)
    sealed = {**_record("hebin-primary", "", day), "sealed": {}}
    state = _world([me, sealed])
    row = state.readside.row(me["id"], state.stations.registry, date(2026, 12, 7))
    assert hints_for(state, _account("staff"), None, row) == []
    state.opened_words.words_of = lambda unlocked, sees, ids: {i: WORDS.lower() for i in ids if i == sealed["id"]}
    assert [h.row.id for h in hints_for(state, _account("staff"), None, row)] == [sealed["id"]]


def test_a_session_that_cannot_open_the_record_gets_no_suggestion_and_no_words(sealed_office, canary):  # noqa: F811
    twin = seed(sealed_office, feeling=CANARY)
    login(sealed_office, "amy")
    sealed_office.app.state.opened_words.idle.wait(30)  # the positive signal: every key opened
    assert _hints(sealed_office.get(f"/office/records/{twin['id']}").text) == [canary["receipt"]]
    login(sealed_office, "nokeys")
    page = sealed_office.get(f"/office/records/{twin['id']}").text
    assert _hints(page) == [] and CANARY not in page
