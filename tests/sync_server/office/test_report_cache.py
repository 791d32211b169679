"""A built report is reused only while nothing it was made from has changed: a triage
change, a new record, another reader's sectors, a phone column or words opened for
one session each mean a fresh build."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from sync_server.office import report_pages
from sync_server.office.report_cache import ReportCache
from tests.sync_server.office import test_pages as test_office
from tests.sync_server.office.test_pages import act, login, seed

office = test_office.office  # the same small office world


def test_a_value_is_reused_at_the_same_version_and_rebuilt_at_a_new_one():
    cache, built = ReportCache(), []

    def build(value, keep=True):
        def run():
            built.append(value)
            return value, keep
        return run

    assert cache.get_or_build("pack", (1, "a"), build("first")) == "first"
    assert cache.get_or_build("pack", (1, "a"), build("second")) == "first"
    assert cache.get_or_build("pack", (2, "a"), build("third")) == "third"
    assert cache.get_or_build("pack", (2, "a"), build("fourth", keep=False)) == "third"
    assert cache.get_or_build("other", (2, "a"), build("private", keep=False)) == "private"
    assert cache.get_or_build("other", (2, "a"), build("again")) == "again"
    assert built == ["first", "third", "private", "again"]


def test_a_build_that_raced_a_newer_version_is_not_kept():
    cache = ReportCache()
    newer_seen = []

    def slow_build():
        # Another request sees a newer version while this one builds from the older.
        newer_seen.append(cache.get_or_build("other", 2, lambda: ("new", True)))
        return "old", True

    assert cache.get_or_build("pack", 1, slow_build) == "old"
    assert cache.get_or_build("pack", 2, lambda: ("rebuilt", True)) == "rebuilt"
    assert newer_seen == ["new"]


def test_the_cache_keeps_at_most_its_size():
    cache = ReportCache(size=2)
    for key in "abc":
        cache.get_or_build(key, 1, lambda k=key: (k, True))
    assert cache.get_or_build("a", 1, lambda: ("rebuilt", True)) == "rebuilt"
    assert cache.get_or_build("c", 1, lambda: ("no", True)) == "c"


def _today():
    return datetime.now(timezone(timedelta(hours=8))).date()


@pytest.fixture
def builds(monkeypatch):
    made = []
    real = report_pages._build_report

    def counting(*args, **kwargs):
        made.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(report_pages, "_build_report", counting)
    return made


def _figures(client, **params):
    response = client.get("/office/reports/weekly", params={"date": _today().isoformat(), "format": "xlsx", **params})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    return {row[0].value: row[1].value for row in book["概要"].iter_rows(min_row=2)}


def test_the_pack_is_built_once_until_a_record_or_a_triage_change_arrives(office, builds):
    login(office, "amy")
    record = seed(office)
    first = _figures(office)
    assert _figures(office) == first and len(builds) == 1
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区公安分局", backdate="2020-01-01", track="immediate")
    assert _figures(office)["超期"] == first["超期"] + 1 and len(builds) == 2
    seed(office)
    assert _figures(office)["本周新收"] == first["本周新收"] + 1 and len(builds) == 3


def test_a_department_never_gets_the_pack_built_for_other_sectors(office, builds):
    login(office, "amy")
    seed(office, station_id="hebin-primary")  # education-health
    assert _figures(office)["本周新收"] == 1
    login(office, "police")  # public-order only
    assert _figures(office)["本周新收"] == 0 and len(builds) == 2


def test_a_pack_with_phones_or_words_read_for_this_session_is_never_kept(office, builds, monkeypatch):
    login(office, "amy")
    record = seed(office, phone="13800000000", consent=True)
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区公安分局", backdate="2020-01-01", track="immediate")
    _figures(office, phone="1")
    _figures(office, phone="1")
    assert len(builds) == 2
    # A listed row whose words only the stored record holds (a sealed one) is read and
    # opened for this session: that pack is not shared either.
    monkeypatch.setattr(report_pages, "needs_words", lambda row: True)
    _figures(office)
    _figures(office)
    assert len(builds) == 4
