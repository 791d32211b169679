"""Durable files: a replace never passes through an empty file, a damaged file names
itself, a truncated segment gives back its readable prefix, a torn log line is ignored."""

from __future__ import annotations

import json
import stat

import pytest

from sync_server.store.embedded import tinystore


def test_replacing_documents_is_one_write_that_never_leaves_an_empty_file(tmp_path, monkeypatch):
    path = tmp_path / "segment.json"
    tinystore.write_docs(path, [{"id": str(n)} for n in range(1000)], "submissions")
    seen = []
    original = tinystore.atomic_write
    monkeypatch.setattr(tinystore, "atomic_write", lambda p, payload: (seen.append(payload), original(p, payload)))
    tinystore.write_docs(path, [{"id": str(n), "phone": None} for n in range(1000)], "submissions")
    assert len(seen) == 1 and len(json.loads(seen[0])["submissions"]) == 1000
    assert len(tinystore.read_docs(path, "submissions")) == 1000


def test_a_file_that_does_not_parse_raises_damaged_file_naming_it(tmp_path):
    path = tmp_path / "segment.json"
    path.write_text('{"submissions": {"1": {"id": "a"}')
    with pytest.raises(tinystore.DamagedFile, match="segment.json is damaged"):
        tinystore.read_docs(path, "submissions")


def test_a_truncated_file_gives_back_its_longest_valid_prefix(tmp_path):
    path = tmp_path / "segment.json"
    tinystore.write_docs(path, [{"id": str(n), "text": "民情" * 20} for n in range(10)], "submissions")
    path.write_bytes(path.read_bytes()[:-5])
    assert [d["id"] for d in tinystore.salvage_docs(path, "submissions")] == [str(n) for n in range(9)]
    path.write_bytes(path.read_bytes()[:-300])
    assert len(tinystore.salvage_docs(path, "submissions")) < 9


def test_a_torn_last_log_line_is_ignored_and_cut_before_the_next_append(tmp_path):
    log = tinystore.AppendLog(tmp_path / "triage.log")
    log.append({"n": 1})
    with open(log.path, "ab") as handle:
        handle.write(b'{"n": 2, "half')  # a crash mid-append
    assert log.read()[0] == [{"n": 1}]
    tinystore.AppendLog(log.path).append({"n": 3})
    assert log.read()[0] == [{"n": 1}, {"n": 3}]


def test_files_are_0600_and_folders_0700_whatever_the_umask(tmp_path):
    import os

    old = os.umask(0)
    try:
        folder = tinystore.private_dir(tmp_path / "a" / "b")
        tinystore.write_docs(folder / "f.json", [{"id": "x"}])
        tinystore.AppendLog(folder / "l.log").append({"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_a_file_the_fast_reader_refuses_but_json_accepts_is_read_not_damaged(tmp_path):
    # orjson refuses integers beyond 64 bits and lone surrogate escapes; json reads them.
    path = tmp_path / "old.json"
    path.write_text('{"documents": {"1": {"n": 123456789012345678901234567890, "t": "\\ud800"}}}', "utf-8")
    [doc] = tinystore.read_docs(path)
    assert doc["n"] == 123456789012345678901234567890 and doc["t"] == "\ud800"
