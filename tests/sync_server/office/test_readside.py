"""The office's read side answers exactly what the full scan answered: every filter,
search, page and report, kept up to date as records and triage changes arrive."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from itertools import product

import pytest

from minqing.registry import load_registry
from sync_server.office.readside import ReportRows
from sync_server.office.readside_index import MemoryReadSide
from sync_server.office.records import Filters, join, local_date, select
from sync_server.office.reports import monthly, to_csv, weekly
from sync_server.triage import new_entry
from tests.conftest import SAMPLE_REGISTRY

TODAY = date(2026, 11, 25)
WORDS = ["路口积水", "黑车拉客", "Noise at NIGHT", "校门口拥堵", "噪音扰民", "ABC"]


@pytest.fixture(scope="module")
def registry():
    return load_registry(SAMPLE_REGISTRY)


def _world(registry, count=400, seed=7):
    rng = random.Random(seed)
    stations = [s.id for s in registry.stations]
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    records, triage = [], {}
    for n in range(count):
        rid = str(uuid.UUID(int=rng.getrandbits(128)))
        received = (start + timedelta(hours=3 * n)).isoformat(timespec="milliseconds")
        records.append({"id": rid, "station_id": rng.choice(stations), "received_at": received,
                        "created_at": received, "rating": rng.choice(["satisfied", "fair", None]),
                        "feeling": rng.choice(WORDS) + f" {n}", "suggestion": rng.choice(["", "希望处理"]),
                        "phone": None, "consent": False, "receipt": f"R{n:04d}-X", "flags": []})
        if rng.random() < 0.3:
            status = rng.choice(["accepted", "assigned", "in_progress", "closed"])
            triage[rid] = {**new_entry(received), "status": status, "weekly": rng.random() < 0.3,
                           "dissatisfied": status == "closed" and rng.random() < 0.5,
                           "deadline": rng.choice([None, "2026-11-01", "2026-12-31"]), "lead": "区公安分局",
                           "public_reply": rng.choice(["", "已安排巡逻"]),
                           "closed_at": received if status == "closed" else None,
                           "outcome": "resolved" if status == "closed" else None}
    return records, triage


FILTERS = [
    Filters(), Filters(status="received"), Filters(status="assigned"), Filters(sector="public-order"),
    Filters(station="hebin-primary"), Filters(since="2026-10-20", until="2026-11-05"), Filters(overdue=True),
    Filters(weekly=True), Filters(q="积水"), Filters(q="night"), Filters(q="r0012"), Filters(q="巡逻"),
    Filters(q="积水", status="received", page=2), Filters(page=3), Filters(page=999),
]


@pytest.mark.parametrize("filters, sectors", list(product(FILTERS, [None, frozenset({"public-order"})])))
def test_every_filter_answers_what_the_full_scan_answered(registry, filters, sectors):
    records, triage = _world(registry)
    side = MemoryReadSide(records, triage)
    rows = [r for r in join(records, triage, registry, TODAY) if sectors is None or r.sector_id in sectors]
    expected, pages = select(rows, filters)
    found = side.page(filters, sectors, registry, TODAY)
    assert [r.id for r in found.rows] == [r.id for r in expected]
    assert found.pages == pages and found.total == len([r for r in rows if filters.matches(r)])


@pytest.mark.parametrize("filters, sectors", list(product(FILTERS, [None, frozenset({"public-order"})])))
def test_every_row_of_a_filter_is_what_the_full_scan_matched_whatever_the_page(registry, filters, sectors):
    records, triage = _world(registry)
    side = MemoryReadSide(records, triage)
    rows = [r for r in join(records, triage, registry, TODAY) if sectors is None or r.sector_id in sectors]
    found = side.rows(filters, sectors, registry, TODAY)
    assert [r.id for r in found] == [r.id for r in rows if filters.matches(r)]
    assert all(r.triage == (triage.get(r.id) or r.triage) for r in found)


def test_records_and_triage_changes_show_up_as_they_arrive(registry):
    records, triage = _world(registry, count=50)
    side = MemoryReadSide(records[:40], {})
    side.records_added(records[40:45])
    side.records_added(records[45:])
    assert [r.id for r in side.page(Filters(), None, registry, TODAY).rows] == [r["id"] for r in records[::-1][:25]]
    assert side.page(Filters(status="accepted"), None, registry, TODAY).total == 0
    first = records[0]["id"]
    side.triage_changed({first: {**new_entry(records[0]["received_at"]), "status": "accepted"}})
    assert [r.id for r in side.page(Filters(status="accepted"), None, registry, TODAY).rows] == [first]
    assert side.count() == 50


def test_an_older_record_arriving_late_takes_its_place_in_time(registry):
    records, _ = _world(registry, count=30)
    side = MemoryReadSide([r for n, r in enumerate(records) if n != 3])
    side.records_added([records[3]])
    everything = side.page(Filters(page=2), None, registry, TODAY).rows
    assert [r.id for r in everything] == [r["id"] for r in records[::-1][25:]]


def test_a_record_added_twice_is_listed_once(registry):
    records, _ = _world(registry, count=5)
    side = MemoryReadSide(records)
    side.records_added(records[:2])
    assert side.count() == 5


def _scanned(every, start, end):
    """The full scan's report rows: every triaged record counts as changed, so a report
    that reads only the read side's narrower sets must come out the same."""
    return ReportRows(
        received=[r for r in every if start <= local_date(r.record["received_at"]) <= end],
        changed=[r for r in every if r.triage["history"] or r.triage["status"] != "received" or r.triage["closed_at"]],
        weekly=[r for r in every if r.triage["weekly"]],
        overdue=[r for r in every if r.overdue],
        dissatisfied=[r for r in every if r.triage.get("dissatisfied")],
    )


@pytest.mark.parametrize("sectors", [None, frozenset({"education-health"})])
def test_reports_from_the_read_side_match_the_full_scan(registry, sectors):
    records, triage = _world(registry, count=600)
    side = MemoryReadSide(records, triage)
    every = [r for r in join(records, triage, registry, TODAY) if sectors is None or r.sector_id in sectors]
    for day in (date(2026, 10, 5), date(2026, 11, 25)):
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        sets = side.report_sets(sectors, start, end, registry, TODAY)
        assert to_csv(weekly(sets, day, today=TODAY)) == to_csv(weekly(_scanned(every, start, end), day, today=TODAY))
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    sets = side.report_sets(sectors, first, last, registry, TODAY)
    assert to_csv(monthly(sets, 2026, 10)) == to_csv(monthly(_scanned(every, first, last), 2026, 10))


def test_report_sets_hold_the_period_and_what_changed_since_not_every_triaged_record(registry):
    records, triage = _world(registry, count=600)
    side = MemoryReadSide(records, triage)
    start, end = date(2026, 11, 23), date(2026, 11, 29)
    sets = side.report_sets(None, start, end, registry, TODAY)
    assert sets.received and all(start <= local_date(r.record["received_at"]) <= end for r in sets.received)
    # Triage entries change when records arrive here (updated_at = received_at): only
    # the entries changed since a day before the week are "changed", not all of them.
    assert {r.id for r in sets.changed} == {i for i, e in triage.items() if e["updated_at"] >= "2026-11-22"}
    assert len(sets.changed) < len(triage) / 2
    assert {r.id for r in sets.weekly} == {i for i, e in triage.items() if e["weekly"]}
    assert {r.id for r in sets.overdue} == {r.id for r in join(records, triage, registry, TODAY) if r.overdue}
    # A change made now joins the changed set at once.
    old = next(i for i, e in triage.items() if e["updated_at"] < "2026-11-01")
    side.triage_changed({old: {**triage[old], "updated_at": "2026-11-24T02:00:00+00:00"}})
    assert old in {r.id for r in side.report_sets(None, start, end, registry, TODAY).changed}


def test_search_across_many_chunks_and_after_new_records_matches_the_full_scan(registry, monkeypatch):
    from sync_server.office import readside_search

    monkeypatch.setattr(readside_search, "CHUNK", 7)
    records, triage = _world(registry, count=200)
    side = MemoryReadSide(records[:150], triage)
    for q in ("积水", "night", "r01"):
        side.page(Filters(q=q), None, registry, TODAY)  # builds the chunks
    side.records_added(records[150:])
    rows = join(records, triage, registry, TODAY)
    for q in ("积水", "night", "r01", "0199"):
        expected = [r.id for r in rows if Filters(q=q).matches(r)]
        assert [r.id for r in side.page(Filters(q=q, page=1), None, registry, TODAY).rows] == expected[:25]
        assert side.page(Filters(q=q), None, registry, TODAY).total == len(expected)


def test_triage_changes_one_by_one_keep_every_filter_equal_to_the_full_scan(registry):
    # Entries move between statuses, lose their deadline, weekly flag and reply: the
    # sets kept per status, overdue, weekly and reply follow each change.
    records, triage = _world(registry, count=300, seed=11)
    side = MemoryReadSide(records, triage)
    rng = random.Random(5)
    current = dict(triage)
    for step in range(120):
        rid = rng.choice(records)["id"]
        entry = {**new_entry(records[0]["received_at"]),
                 "status": rng.choice(["received", "accepted", "assigned", "in_progress", "closed"]),
                 "weekly": rng.random() < 0.5, "deadline": rng.choice([None, "2026-11-01", "2026-12-31"]),
                 "public_reply": rng.choice(["", "已安排巡逻", "已转交"])}
        current[rid] = entry
        side.triage_changed({rid: entry})
        if step % 20 == 19:
            rows = join(records, current, registry, TODAY)
            for filters in FILTERS + [Filters(q="转交"), Filters(status="closed", overdue=True)]:
                expected, pages = select(rows, filters)
                found = side.page(filters, None, registry, TODAY)
                assert [r.id for r in found.rows] == [r.id for r in expected], filters
                assert found.total == len([r for r in rows if filters.matches(r)])


def test_fed_at_open_and_finished_answers_what_a_load_answers(registry):
    records, triage = _world(registry, count=200, seed=3)
    fed = MemoryReadSide()
    fed.feed(records[:120])
    fed.records_added(records[190:])  # an upload while the index is being finished
    fed.feed(records[120:190])
    fed.finish(triage)
    loaded = MemoryReadSide(records, triage)
    for filters in FILTERS:
        assert ([r.id for r in fed.page(filters, None, registry, TODAY).rows]
                == [r.id for r in loaded.page(filters, None, registry, TODAY).rows])


def test_filters_after_an_out_of_order_import_match_the_full_scan(registry):
    records, triage = _world(registry, count=200, seed=9)
    side = MemoryReadSide([r for n, r in enumerate(records) if n % 10], triage)
    side.page(Filters(q="积水"), None, registry, TODAY)  # chunks built before the import
    side.records_added([r for n, r in enumerate(records) if not n % 10])
    rows = join(records, triage, registry, TODAY)
    for filters in FILTERS:
        expected, _ = select(rows, filters)
        assert [r.id for r in side.page(filters, None, registry, TODAY).rows] == [r.id for r in expected], filters


def test_a_word_said_twice_in_one_record_counts_the_record_once(registry):
    records, _ = _world(registry, count=30)
    records[4]["feeling"] = "积水积水，还是积水"
    records[9]["suggestion"] = "积水"
    side = MemoryReadSide(records)
    expected = [r.id for r in join(records, {}, registry, TODAY) if Filters(q="积水").matches(r)]
    found = side.page(Filters(q="积水"), None, registry, TODAY)
    assert [r.id for r in found.rows] == expected[:25] and found.total == len(expected)


def test_control_and_private_use_characters_in_a_text_or_a_query_find_the_right_records(registry):
    # The search strings mark each record's end with \x03 and a private-use character:
    # a citizen's text holding them must not shift or double a match.
    records, _ = _world(registry, count=40)
    records[2]["feeling"] = "门口\x03\ue001\x00积水"
    records[3]["feeling"] = "\ue000\x03"
    side = MemoryReadSide(records)
    rows = join(records, {}, registry, TODAY)
    for q in ("门口积水", "积水", "\x03", "\ue001", "门口\x03"):
        cleaned = q.replace("\x03", "").replace("\ue001", "")
        expected = [r.id for r in rows if cleaned and cleaned in (r.record["feeling"] + "\n" + r.record["suggestion"])
                    .replace("\x03", "").replace("\ue001", "").replace("\ue000", "").replace("\x00", "").lower()
                    or cleaned and cleaned in r.record["receipt"].lower()]
        found = side.page(Filters(q=q), None, registry, TODAY)
        if not cleaned:  # nothing searchable left: the whole list
            assert found.total == len(records)
        else:
            assert [r.id for r in found.rows] == expected[:25] and found.total == len(expected), q


def test_overdue_follows_the_day_and_each_deadline_change(registry):
    records, _ = _world(registry, count=20)
    side = MemoryReadSide(records)
    a, b, c = (r["id"] for r in records[:3])
    base = new_entry(records[0]["received_at"])
    side.triage_changed({a: {**base, "status": "assigned", "deadline": "2026-11-20"},
                         b: {**base, "status": "in_progress", "deadline": "2026-11-24"},
                         c: {**base, "status": "closed", "deadline": "2026-11-01"}})

    def overdue(day):
        return {r.id for r in side.page(Filters(overdue=True), None, registry, day).rows}

    assert overdue(date(2026, 11, 20)) == set()
    assert overdue(date(2026, 11, 21)) == {a}
    assert overdue(date(2026, 11, 25)) == {a, b}
    side.triage_changed({a: {**base, "status": "assigned", "deadline": "2026-12-31"}})
    side.triage_changed({b: {**base, "status": "closed", "deadline": "2026-11-24"}})
    assert overdue(date(2026, 11, 25)) == set()


def test_a_triage_entry_stored_before_its_record_arrives_is_filtered_once_it_does(registry):
    records, _ = _world(registry, count=20)
    side = MemoryReadSide(records[:19])
    late = records[19]
    side.triage_changed({late["id"]: {**new_entry(late["received_at"]), "status": "accepted"}})
    assert side.page(Filters(status="accepted"), None, registry, TODAY).total == 0
    side.records_added([late])
    assert [r.id for r in side.page(Filters(status="accepted"), None, registry, TODAY).rows] == [late["id"]]


def _shown(side, registry, records):
    """Each record's words and fields as the read side's rows show them, by id."""
    found = {}
    for number in range(1, len(records) // 25 + 2):
        for row in side.page(Filters(page=number), None, registry, TODAY).rows:
            found[row.id] = {k: row.record[k] for k in ("feeling", "suggestion", "receipt", "rating")}
    return found


def test_rows_show_each_records_words_exactly_as_stored_wherever_the_index_keeps_them(registry, monkeypatch):
    # The index keeps the words once, inside its search chunks: what a row shows must be
    # the stored words, whatever they hold, in every way records reach the index.
    from sync_server.office import readside_search

    monkeypatch.setattr(readside_search, "CHUNK", 7)
    records, triage = _world(registry, count=120, seed=21)
    odd = ["换行\n之后", "大写 KTV 与 İstanbul", "控制\x01字符\x02在\x03中间", "私用\ue000区\ue005字", "", "  ", "\x00"]
    for n, record in enumerate(records):
        record["feeling"] = odd[n % len(odd)] + f"#{n}" if n % 5 else ""
        record["suggestion"] = odd[(n * 3) % len(odd)]
    expected = {r["id"]: {k: r[k] for k in ("feeling", "suggestion", "receipt", "rating")} for r in records}
    fed = MemoryReadSide()
    shuffled = records[:80]
    random.Random(2).shuffle(shuffled)  # stored out of time order: chunks made while feeding are remade
    fed.feed(shuffled)
    fed.finish(triage)
    fed.records_added(records[100:])  # newer: appended
    fed.records_added(records[80:100])  # older: an import, placed by time
    assert _shown(fed, registry, records) == expected
    fed.page(Filters(q="ktv"), None, registry, TODAY)  # the newest chunk is rebuilt
    assert _shown(fed, registry, records) == expected
    # Search still folds case over the words it keeps once.
    rows = join(records, triage, registry, TODAY)
    for q in ("ktv", "stanbul", "换行", "私用", "#7"):
        expected_ids = [r.id for r in rows if Filters(q=q).matches(r)]
        assert expected_ids, q
        assert [r.id for r in fed.page(Filters(q=q), None, registry, TODAY).rows] == expected_ids[:25], q


def _one_minute_uploads(registry, minute="2026-11-24T02:00:00+00:00"):
    """Thirty browsers each send two reports queued offline, thirty others one, all
    received in one minute (stored as the minute): the uploads, and the pairs' ids."""
    stations = [s.id for s in registry.stations]
    uploads, pairs = [], []
    for n in range(30):
        two = [{"id": f"p{n:02d}{k}", "station_id": stations[0], "received_at": minute, "created_at": minute,
                "rating": "fair", "feeling": f"第{n}对{k}", "suggestion": "", "phone": None, "consent": False,
                "receipt": f"P{n:02d}{k}-X", "flags": []} for k in "ab"]
        one = {**two[0], "id": f"s{n:02d}", "receipt": f"S{n:02d}-X", "feeling": f"单独{n}"}
        uploads += [two, [one]]
        pairs.append((two[0]["id"], two[1]["id"]))
    return uploads, pairs


def _listed(side, registry) -> list[str]:
    pages = side.page(Filters(), None, registry, TODAY).pages
    return [r.id for page in range(1, pages + 1) for r in side.page(Filters(page=page), None, registry, TODAY).rows]


def _neighbours(order, pairs) -> int:
    place = {i: n for n, i in enumerate(order)}
    return sum(abs(place[a] - place[b]) == 1 for a, b in pairs)


def test_a_minutes_records_arriving_live_are_listed_in_no_order_of_their_uploads(registry):
    # The live list sorted a minute's records by arrival: each upload's records side by
    # side, in the order they came (after a restart, the store's random order).
    records, _ = _world(registry, count=20)
    side = MemoryReadSide(records)
    uploads, pairs = _one_minute_uploads(registry, minute="2026-12-31T02:00:00+00:00")
    for upload in uploads:
        side.records_added(upload)
    listed = _listed(side, registry)
    assert len(listed) == 110 and listed[90:] == [r["id"] for r in records[::-1]]
    # For a random order of 90 about 0.7 of the 30 pairs are neighbours (9 or more: odds
    # below one in ten million); upload by upload, all 30 are.
    assert _neighbours(listed, pairs) < 9
    # Paging stays put: a record already listed keeps its place among the others.
    side.records_added([{**uploads[0][0], "id": "late", "receipt": "LATE-X"}])
    again = _listed(side, registry)
    assert [i for i in again if i != "late"] == listed and len(again) == 111


def test_a_minutes_records_arriving_while_the_index_is_built_are_listed_in_no_order_of_their_uploads(registry):
    records, _ = _world(registry, count=20)
    side = MemoryReadSide()
    side.feed(records)
    uploads, pairs = _one_minute_uploads(registry, minute="2026-12-31T02:00:00+00:00")
    for upload in uploads:
        side.records_added(upload)
    side.finish({})
    listed = _listed(side, registry)
    assert len(listed) == 110 and _neighbours(listed, pairs) < 9
