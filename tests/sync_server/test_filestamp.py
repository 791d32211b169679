"""A file replaced within the clock's granularity still reads as changed, for every
cache that reloads a file (the registry, the CSP hashes, the keyed files)."""

from __future__ import annotations

import os

from sync_server.filestamp import file_stamp
from sync_server.stations import StationBook


def _replace_keeping_size_and_mtime(path, text: str) -> None:
    """An atomic rewrite (new inode) whose size and mtime equal the old file's."""
    before = os.stat(path)
    assert len(text.encode("utf-8")) == before.st_size
    fresh = path.with_suffix(".new")
    fresh.write_text(text, "utf-8")
    os.utime(fresh, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(fresh, path)


def test_a_rewrite_with_the_same_size_and_mtime_changes_the_stamp(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("{}", "utf-8")
    stamp = file_stamp(path)
    _replace_keeping_size_and_mtime(path, "[]")
    assert file_stamp(path) != stamp
    assert file_stamp(tmp_path / "missing") is None


def test_the_station_book_rereads_a_registry_replaced_within_one_clock_tick(registry_file):
    book = StationBook(registry_file)
    assert book.registry.station("hebin-primary").name
    text = registry_file.read_text("utf-8")
    renamed = text.replace("hebin-primary", "hebin-primarx")
    _replace_keeping_size_and_mtime(registry_file, renamed)
    assert book.registry.station("hebin-primarx") is not None
