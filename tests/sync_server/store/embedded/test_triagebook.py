"""The triage log: one fsynced line per change, a merge in one line, old files migrated."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sync_server.store.embedded import tinystore
from sync_server.store.embedded.triagebook import LOG_NAME, TriageBook
from sync_server.triage import new_entry
from tests.sync_server.conftest import health_here


def _entry(**fields):
    return {**new_entry("2026-11-25T00:00:00+00:00"), **fields}


def test_a_status_change_appends_one_line_instead_of_rewriting_the_file(tmp_path):
    book = TriageBook(tmp_path)
    book.put_many({f"r{n}": _entry() for n in range(100)})
    log = tmp_path / "office" / LOG_NAME
    size = log.stat().st_size
    book.put("r5", _entry(status="accepted"))
    assert log.stat().st_size - size < 1000
    assert TriageBook(tmp_path).entry("r5")["status"] == "accepted"


def test_a_merge_is_one_line_so_a_crash_leaves_both_or_neither(tmp_path):
    book = TriageBook(tmp_path)
    book.put_many({"a": _entry(merged_into="b"), "b": _entry(merged=["a"])})
    lines = (tmp_path / "office" / LOG_NAME).read_bytes().splitlines()
    assert len(lines) == 1 and set(json.loads(lines[0])["put"]) == {"a", "b"}
    with open(tmp_path / "office" / LOG_NAME, "ab") as handle:  # the next merge, torn by a crash
        handle.write(b'{"put": {"c": {"merged_into": "d"}, "d": {"mer')
    reopened = TriageBook(tmp_path)
    assert set(reopened.all()) == {"a", "b"} and reopened.problems == []


def test_another_reader_sees_changes_and_compaction(tmp_path):
    writer, reader = TriageBook(tmp_path), TriageBook(tmp_path)
    writer.put("a", _entry(status="accepted"))
    assert reader.entry("a")["status"] == "accepted"
    writer.put("a", _entry(status="declined"))
    writer.compact()
    writer.put("b", _entry())
    assert reader.entry("a")["status"] == "declined" and reader.entry("b") is not None


def test_compaction_keeps_every_entry_in_one_line_each(tmp_path):
    book = TriageBook(tmp_path)
    for n in range(50):
        book.put("a", _entry(note=str(n)))
        book.put(f"r{n}", _entry())
    book.compact()
    assert len((tmp_path / "office" / LOG_NAME).read_bytes().splitlines()) == 51
    assert TriageBook(tmp_path).entry("a")["note"] == "49"


def test_a_triage_file_from_before_is_migrated(tmp_path):
    tinystore.private_dir(tmp_path / "office")
    old = tinystore.KeyedFile(tmp_path / "office" / "triage.json", tmp_path)
    old.put_many({"a": _entry(status="accepted"), "b": _entry(status="closed")})
    book = TriageBook(tmp_path)
    assert {k: v["status"] for k, v in book.all().items()} == {"a": "accepted", "b": "closed"}
    assert not (tmp_path / "office" / "triage.json").exists()


def test_on_change_hears_every_write_with_the_entries_it_stored(tmp_path):
    heard = []
    book = TriageBook(tmp_path, on_change=heard.append)
    book.put_many({"a": _entry(), "b": _entry()})
    book.put("a", _entry(status="accepted"))
    assert [sorted(h) for h in heard] == [["a", "b"], ["a"]] and heard[1]["a"]["status"] == "accepted"


def test_a_damaged_line_costs_only_itself_and_a_copy_goes_to_quarantine(tmp_path):
    book = TriageBook(tmp_path)
    book.put("a", _entry(status="accepted"))
    with open(tmp_path / "office" / LOG_NAME, "ab") as handle:
        handle.write(b"\x00\x00garbage\n")
    damaged = TriageBook(tmp_path)
    assert set(damaged.all()) == {"a"}
    assert len(damaged.problems) == 1 and "triage.log is damaged" in damaged.problems[0]
    assert list((tmp_path / "quarantine" / "office").glob("triage.log.*"))
    damaged.put("b", _entry())  # the next write drops the unreadable line first
    reopened = TriageBook(tmp_path)
    assert set(reopened.all()) == {"a", "b"} and reopened.problems == []


def test_compaction_writes_each_line_it_read_byte_for_byte(tmp_path):
    from tests.sync_server.store.embedded.test_triageentry import ENTRIES

    log = tinystore.AppendLog(tmp_path / "office" / LOG_NAME)
    tinystore.private_dir(tmp_path / "office")
    for name, entry in ENTRIES.items():  # one line per entry, as a compaction writes them
        log.append({"put": {name: entry}})
    written = log.path.read_bytes()
    book = TriageBook(tmp_path)
    book.compact()
    # The legacy line lacks `summary` and the dispatch fields: it comes back completed,
    # the fields at their defaults after the line's own; every other line byte for byte.
    *same, legacy = written.splitlines()
    missing = {k: v for k, v in new_entry("").items() if k not in ENTRIES["legacy"]}
    completion = json.dumps(missing, ensure_ascii=False, separators=(",", ":"))[1:-1].encode()
    assert list(ENTRIES)[-1] == "legacy" and "summary" in missing
    assert log.path.read_bytes().splitlines() == [*same, legacy[:-3] + b"," + completion + b"}}}"]
    written = log.path.read_bytes()
    book.put("accepted", book.entry("accepted"))  # stored as it was read: the same line again
    assert log.path.read_bytes().splitlines()[-1] == written.splitlines()[1]


def test_entries_are_handed_out_read_only_and_the_same_to_every_reader(tmp_path):
    from sync_server.store.embedded.triageentry import TriageEntry
    from sync_server.triage import apply

    heard = []
    book = TriageBook(tmp_path, on_change=heard.append)
    book.put("a", apply(_entry(), "accept", {}, "amy", datetime(2026, 11, 26, tzinfo=timezone.utc)))
    changed = apply(book.entry("a"), "assign", {"lead": "区公安分局", "deadline": "2026-12-01", "track": "immediate"},
                    "amy", datetime(2026, 11, 27, tzinfo=timezone.utc))
    stored = book.put_many({"a": changed})
    assert isinstance(book.entry("a"), TriageEntry) and book.entry("a") is stored["a"] is heard[-1]["a"]
    assert book.all()["a"] is stored["a"]
    # The writer's dict held a step of the stored history: the log has it as plain JSON.
    assert TriageBook(tmp_path).entry("a") == changed and TriageBook(tmp_path).entry("a")["history"][1]["to"] == "assigned"


def test_an_entry_that_parses_but_cannot_be_used_costs_that_entry_alone(tmp_path):
    # A hand edit or a flipped bit inside a key: valid JSON, wrong shape. The office
    # index computes on status, deadline and change time; one such entry stopped it for
    # every record. It is left out and named; the rest, even on its line, is served.
    book = TriageBook(tmp_path)
    book.put("good", _entry(status="accepted"))
    broken = {
        "no-status": {"statu5": "accepted"},
        "odd-status": _entry(status="archived"),
        "bad-deadline": _entry(status="assigned", deadline="下周五"),
        "number-time": _entry(updated_at=20261125),
        "reply-list": _entry(public_reply=["已处理"]),
        "history-text": _entry(history="受理"),
    }
    with open(tmp_path / "office" / LOG_NAME, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"put": {"also-good": _entry(status="closed"), **broken}}, ensure_ascii=False) + "\n")
    reopened = TriageBook(tmp_path)
    assert set(reopened.all()) == {"good", "also-good"}
    assert reopened.problems and f"{len(broken)} unreadable" in reopened.problems[0]
    reopened.put("good", _entry(status="assigned"))  # the next write drops them from the log, a copy kept
    assert set(TriageBook(tmp_path).all()) == {"good", "also-good"}


def test_the_server_answers_uploads_before_it_has_read_the_triage_log(settings, registry_file, monkeypatch):
    # The triage log takes about a second at 100,000 records and nothing an upload does
    # needs it: the server reads it beside the running server, with the office index.
    import threading

    from starlette.testclient import TestClient

    from sync_server.app import create_app
    from tests.sync_server.conftest import make_item, post_batch, store_items

    stored = [make_item(feeling="已受理的那条")]
    store_items(settings.data_dir, registry_file, stored)
    TriageBook(settings.data_dir).put(stored[0]["id"], _entry(status="accepted"))
    release, reading = threading.Event(), threading.Event()
    real = TriageBook._read_new

    def held(self):
        reading.set()
        assert release.wait(60)
        real(self)

    monkeypatch.setattr(TriageBook, "_read_new", held)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert reading.wait(60)
        assert health_here(client)["office_ready"] is False
        assert post_batch(client, [make_item(feeling="日志未读完时上传")]).json()["ok"]
        release.set()
        client.app.state.readside.wait_ready()
        assert client.app.state.triage.entry(stored[0]["id"])["status"] == "accepted"
        assert client.app.state.readside.count() == 2


def test_the_verdict_fields_come_back_from_the_log_as_they_were_written(tmp_path):
    verdict = {"choice": "dissatisfied", "source": "receipt", "round": 1, "at": "2026-11-25T00:00:00+00:00",
               "first_at": "2026-11-25T00:00:00+00:00", "comment": "", "comment_sealed": {"v": 1, "ct": "x"}}
    entry = _entry(status="assigned", round=2, past_verdicts=[verdict], calls=3, dissatisfied=True,
                   citizen_added=True, maintained={"reason": "依法处理", "at": "2026-11-25T00:00:00+00:00", "round": 1},
                   questions=[{"id": "q1", "asked_at": "2026-11-25T00:00:00+00:00", "text": "哪天？",
                               "answer": {"at": "2026-11-26T00:00:00+00:00", "text": None, "sealed": {"ct": "y"}}}],
                   publication={"title": "t", "done": "d", "month": "2026-11", "published_at": "2026-11-27T00:00:00+00:00",
                                "station_id": "park", "sector": "market"})
    TriageBook(tmp_path).put("a", entry)
    stored = TriageBook(tmp_path).entry("a")
    assert stored == entry and stored["past_verdicts"][0]["comment_sealed"]["ct"] == "x"
    book = TriageBook(tmp_path)
    book.compact()
    assert TriageBook(tmp_path).entry("a") == entry
