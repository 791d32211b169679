"""The department copies' promises (`interfaces.DepartmentCopies`), held against every engine."""

from __future__ import annotations

import pytest

from sync_server.store import DepartmentCopies, StoreLocked


def _copy(department: str, kid: str = "0123456789abcdef", text: str = "c2VhbGVk") -> dict:
    return {"v": 1, "suite": "P256-SHA256-AES256GCM", "kid": kid, "department": department, "text": text}


def test_an_opened_store_has_the_seams_department_copies(place):
    with place.open() as store:
        assert isinstance(store.department_copies, DepartmentCopies)


def test_copies_read_back_and_a_put_replaces_every_copy_of_its_record(place):
    with place.open() as store:
        copies = store.department_copies
        assert copies.copies("a") == {} and len(copies) == 0
        copies.put("a", {"police": _copy("police"), "hrss": _copy("hrss")})
        assert set(copies.copies("a")) == {"police", "hrss"}
        copies.put("a", {"market": _copy("market")})  # 改派: the old department's copy goes
        assert copies.copies("a") == {"market": _copy("market")}
        copies.put("b", {"police": _copy("police")})
        assert copies.ids() == {"a", "b"} and len(copies) == 2
        copies.put("a", {})
        assert copies.copies("a") == {} and copies.ids() == {"b"}


def test_copies_are_durable(place):
    with place.open() as store:
        store.department_copies.put("a", {"police": _copy("police")})
        store.department_copies.put("a", {"market": _copy("market")})
    with place.open() as store:
        assert store.department_copies.copies("a") == {"market": _copy("market")}


@pytest.mark.parametrize("bad", [
    {"feeling": "候车厅有人拉客"},
    {**_copy("police"), "feeling": "候车厅有人拉客"},
    {**_copy("police"), "department": "market"},
    {**_copy("police"), "text": 5},
    "plain words",
    None,
])
def test_anything_but_a_sealed_copy_is_refused_and_nothing_is_stored(place, bad):
    with place.open() as store:
        with pytest.raises(ValueError):
            store.department_copies.put("a", {"police": _copy("police"), "police2" if bad is None else "police": bad})
        assert store.department_copies.copies("a") == {}
    with place.open() as store:
        assert store.department_copies.copies("a") == {}


def test_a_reader_catches_up_and_cannot_write(place):
    with place.open() as writer, place.open(writer=False) as reader:
        assert reader.department_copies.copies("a") == {}
        writer.department_copies.put("a", {"police": _copy("police")})
        assert set(reader.department_copies.copies("a")) == {"police"}
        writer.department_copies.put("a", {})
        assert reader.department_copies.copies("a") == {}
        with pytest.raises(StoreLocked):
            reader.department_copies.put("a", {"police": _copy("police")})


def test_another_process_reads_what_was_written(place):
    with place.open() as store:
        store.department_copies.put("a", {"police": _copy("police")})
    result = place.in_another_process("""
        with place.open(writer=False) as store:
            print(sorted(store.department_copies.copies("a")))
    """)
    assert result.stdout.strip() == "['police']", result.stderr


def test_put_many_writes_every_record_given(place):
    with place.open() as store:
        store.department_copies.put("a", {"police": _copy("police")})
        store.department_copies.put_many({"a": {}, "b": {"market": _copy("market")}, "c": {}})
    with place.open() as store:
        assert store.department_copies.ids() == {"b"}
