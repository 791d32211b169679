"""The letters' promises (`interfaces.Letters`), held against every engine."""

from __future__ import annotations

import pytest

from sync_server.store import Letters, StoreLocked


def _label(n: int) -> str:
    return f"测函〔2026〕{n}号"


def _fields(**more) -> dict:
    return {"department": "police", "matters": ["a", "b"], "sent_on": "2026-12-08", **more}


def test_an_opened_store_has_the_seams_letters(place):
    with place.open() as store:
        assert isinstance(store.letters, Letters)


def test_numbers_count_up_per_kind_and_year_from_one(place):
    with place.open() as store:
        first = store.letters.issue("letter", 2026, _fields(), _label)
        second = store.letters.issue("letter", 2026, _fields(), _label)
        other_kind = store.letters.issue("supervision", 2026, _fields(), lambda n: f"督{n}")
        next_year = store.letters.issue("letter", 2027, _fields(), _label)
    assert [first["n"], second["n"], other_kind["n"], next_year["n"]] == [1, 2, 1, 1]
    assert (second["number"], other_kind["number"]) == ("测函〔2026〕2号", "督1")
    assert len({first["id"], second["id"], other_kind["id"], next_year["id"]}) == 4


def test_an_issued_letter_reads_back_whole_after_reopening(place):
    with place.open() as store:
        issued = store.letters.issue("letter", 2026, _fields(title="关于加强校园周边治理的工作建议函"), _label)
    with place.open() as store:
        stored = store.letters.get(issued["id"])
        assert stored == issued
        assert stored["matters"] == ["a", "b"] and stored["title"] == "关于加强校园周边治理的工作建议函"
        assert [letter["id"] for letter in store.letters.all()] == [issued["id"]] and len(store.letters) == 1


def test_a_withdrawn_letter_keeps_its_number_taken(place):
    with place.open() as store:
        first = store.letters.issue("letter", 2026, _fields(), _label)
        store.letters.update(first["id"], {"voided": True})
    with place.open() as store:
        assert store.letters.next_number("letter", 2026) == 2
        assert store.letters.issue("letter", 2026, _fields(), _label)["n"] == 2
        assert store.letters.get(first["id"])["voided"] is True


def test_a_number_stays_taken_across_a_compaction(place):
    with place.open() as store:
        for _ in range(3):
            store.letters.issue("letter", 2026, _fields(), _label)
        if hasattr(store.letters, "compact"):
            store.letters.compact()
    with place.open() as store:
        assert store.letters.next_number("letter", 2026) == 4


def test_an_answer_is_kept_and_the_last_change_wins(place):
    with place.open() as store:
        issued = store.letters.issue("letter", 2026, _fields(), _label)
        store.letters.update(issued["id"], {"answer": {"text": "已部署整改", "on": "2026-12-10"}})
        store.letters.update(issued["id"], {"answer": {"text": "已全部整改", "on": "2026-12-12"}})
    with place.open() as store:
        stored = store.letters.get(issued["id"])
        assert stored["answer"] == {"text": "已全部整改", "on": "2026-12-12"}
        assert stored["matters"] == ["a", "b"] and stored["number"] == issued["number"]


def test_a_letters_identity_cannot_change(place):
    with place.open() as store:
        issued = store.letters.issue("letter", 2026, _fields(), _label)
        for field in ("id", "kind", "year", "n", "number"):
            with pytest.raises(ValueError):
                store.letters.update(issued["id"], {field: 9})
        with pytest.raises(KeyError):
            store.letters.update("letter-2026-99", {"voided": True})
        assert store.letters.get(issued["id"]) == issued


def test_handed_out_letters_are_copies(place):
    with place.open() as store:
        issued = store.letters.issue("letter", 2026, _fields(), _label)
        issued["matters"].append("c")
        store.letters.get(issued["id"])["matters"].append("d")
        assert store.letters.get(issued["id"])["matters"] == ["a", "b"]


def test_a_bad_kind_or_year_takes_no_number(place):
    with place.open() as store:
        for kind, year in (("Letter/1", 2026), ("", 2026), ("letter", 1999), ("letter", "2026")):
            with pytest.raises(ValueError):
                store.letters.issue(kind, year, _fields(), _label)
        assert len(store.letters) == 0 and store.letters.next_number("letter", 2026) == 1


def test_a_reader_catches_up_and_refuses_to_write(place):
    with place.open() as store:
        store.letters.issue("letter", 2026, _fields(), _label)
        with place.open(writer=False) as reader:
            assert len(reader.letters) == 1
            store.letters.issue("letter", 2026, _fields(), _label)
            assert [letter["n"] for letter in reader.letters.all()] == [1, 2]
            assert reader.letters.next_number("letter", 2026) == 3
            with pytest.raises(StoreLocked):
                reader.letters.issue("letter", 2026, _fields(), _label)


def test_letters_issued_in_another_process_are_seen(place):
    with place.open() as store:
        store.letters.issue("letter", 2026, _fields(), _label)
    done = place.in_another_process("""
        with place.open() as store:
            print(store.letters.issue("letter", 2026, {"department": "x"}, lambda n: f"N{n}")["number"])
    """)
    assert done.stdout.strip() == "N2", done.stderr
    with place.open() as store:
        assert [letter["number"] for letter in store.letters.all()] == ["测函〔2026〕1号", "N2"]
